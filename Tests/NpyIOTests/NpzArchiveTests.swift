import Testing
import TestSupport
@testable import NpyIO

/// Index of the first occurrence of `signature` (little-endian) in `bytes`.
func findSignature(_ signature: UInt32, in bytes: [UInt8]) -> Int {
    let pattern = (0..<4).map { UInt8(truncatingIfNeeded: signature >> ($0 * 8)) }
    for i in 0...(bytes.count - 4) where Array(bytes[i..<i + 4]) == pattern { return i }
    fatalError("signature 0x\(String(signature, radix: 16)) not found")
}

func putLE32(_ value: UInt32, into bytes: inout [UInt8], at offset: Int) {
    for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (k * 8)) }
}

/// The CRC field of the local header at `local`.
func crcOf(_ bytes: [UInt8], _ local: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[local + 14 + $1]) << ($1 * 8) }
}

func archiveError(_ bytes: [UInt8], member: String) -> String? {
    do {
        _ = try NpzArchive(bytes: bytes, origin: "w.npz").array(named: member)
        return nil
    } catch {
        return "\(error)"
    }
}

@Suite struct NpzArchiveTests {
    static func sampleArchive(_ compression: NpzWriter.Compression) throws -> [UInt8] {
        var writer = NpzWriter(compression: compression)
        writer.add("weights", NpyArray(float32: (0..<12).map(Float.init), shape: [3, 4]))
        writer.add("config", NpyArray(string: "{\"n_heads\": 8}"))
        writer.add("zeros", NpyArray(float64: [Double](repeating: 0, count: 100_000), shape: [100_000]))
        return try writer.encode()
    }

    @Test(arguments: [NpzWriter.Compression.stored, .deflated])
    func roundTrip(compression: NpzWriter.Compression) throws {
        let archive = try NpzArchive(bytes: try Self.sampleArchive(compression), origin: "w.npz")
        #expect(archive.memberNames == ["weights", "config", "zeros"])
        #expect(archive.contains("weights") && archive.contains("weights.npy") && !archive.contains("bias"))
        let weights = try archive.array(named: "weights")
        #expect(weights.origin == "w.npz:weights")
        #expect(weights.shape == [3, 4])
        #expect(try weights.float32Elements() == (0..<12).map(Float.init))
        #expect(try archive.array(named: "config.npy").stringScalar() == "{\"n_heads\": 8}")
        #expect(try archive.array(named: "zeros").float64Elements() == [Double](repeating: 0, count: 100_000))
        #expect(throws: NpyError(file: "w.npz", message: "no member named 'bias'; the archive holds 'weights', 'config', 'zeros'")) {
            try archive.array(named: "bias")
        }
    }

    @Test func storedMembersAreSlicesOfTheArchive() throws {
        let bytes = try Self.sampleArchive(.stored)
        let archive = try NpzArchive(bytes: bytes, origin: "w.npz")
        let first = try archive.array(named: "weights")
        let second = try archive.array(named: "weights")
        let a = first.withUnsafeRawBytes { UnsafeRawPointer($0.baseAddress!) }
        let b = second.withUnsafeRawBytes { UnsafeRawPointer($0.baseAddress!) }
        #expect(a == b)  // both views of the same archive bytes, no copy
    }

    @Test func crcMismatchNamesTheMember() throws {
        var stored = try Self.sampleArchive(.stored)
        let local = findSignature(ZipDirectory.localSignature, in: stored)
        stored[local + 30 + "weights.npy".utf8.count + 128 + 5] ^= 0x40  // a data byte of 'weights'
        let message = archiveError(stored, member: "weights") ?? "no error"
        #expect(message.hasPrefix("w.npz member 'weights': CRC-32 mismatch: the central directory says 0x"), "\(message)")
        var deflated = try Self.sampleArchive(.deflated)
        let central = findSignature(ZipDirectory.centralSignature, in: deflated)
        putLE32(0x1234_5678, into: &deflated, at: central + 16)
        putLE32(0x1234_5678, into: &deflated, at: findSignature(ZipDirectory.localSignature, in: deflated) + 14)
        let inflatedMessage = archiveError(deflated, member: "weights") ?? "no error"
        #expect(inflatedMessage.hasPrefix("w.npz member 'weights': CRC-32 mismatch: the central directory says 0x12345678, the inflated data has 0x"), "\(inflatedMessage)")
    }

    /// A member large enough to be checked on several threads: a flipped byte in its last piece is
    /// caught, and the CRC the message reports is the one-pass CRC (zlib's) of the damaged data.
    @Test func crcMismatchInALargeMemberCheckedInPieces() throws {
        let count = 3 * CRC32.parallelThreshold / 4 + 1001
        var writer = NpzWriter()
        writer.add("big", NpyArray(float32: (0..<count).map { Float($0 % 977) }, shape: [count]))
        var bytes = try writer.encode()
        let local = findSignature(ZipDirectory.localSignature, in: bytes)
        let dataStart = local + 30 + "big.npy".utf8.count
        let memberSize = 128 + 4 * count
        #expect(memberSize > CRC32.parallelThreshold * 2)
        #expect(try NpzArchive(bytes: bytes, origin: "w.npz").array(named: "big").float32Elements()[count - 1] == Float((count - 1) % 977))
        bytes[dataStart + memberSize - 3] ^= 0x01
        let damaged = CRC32Tests.zlibCRC(Array(bytes[dataStart..<dataStart + memberSize]))
        #expect(archiveError(bytes, member: "big")
                == "w.npz member 'big': CRC-32 mismatch: the central directory says 0x\(hex8(crcOf(bytes, local))), the data has 0x\(hex8(damaged))")
    }

    @Test func localHeaderMustAgreeWithTheCentralDirectory() throws {
        var bytes = try Self.sampleArchive(.stored)
        let local = findSignature(ZipDirectory.localSignature, in: bytes)
        bytes[local + 30] = UInt8(ascii: "W")
        #expect(throws: NpyError(file: "w.npz", member: "weights.npy", offset: 30, message: "local header names 'Weights.npy', the central directory 'weights.npy'")) {
            try NpzArchive(bytes: bytes, origin: "w.npz")
        }
        var sizes = try Self.sampleArchive(.stored)
        putLE32(999, into: &sizes, at: local + 22)
        var message = ""
        do { _ = try NpzArchive(bytes: sizes, origin: "w.npz") } catch { message = "\(error)" }
        #expect(message.hasPrefix("w.npz member 'weights.npy' at byte 14: local header (CRC 0x"), "\(message)")
        #expect(message.hasSuffix(", 176 compressed, 999 uncompressed bytes) disagrees with the central directory (CRC 0x\(hex8(crcOf(sizes, local))), 176, 176)"), "\(message)")
    }

    @Test func declaredSizeMismatches() throws {
        var stored = try Self.sampleArchive(.stored)
        let central = findSignature(ZipDirectory.centralSignature, in: stored)
        putLE32(10, into: &stored, at: central + 24)
        putLE32(10, into: &stored, at: findSignature(ZipDirectory.localSignature, in: stored) + 22)
        #expect(archiveError(stored, member: "weights") == "w.npz member 'weights': stored member declares 176 compressed but 10 uncompressed bytes; expected them equal")

        var deflated = try Self.sampleArchive(.deflated)
        let centralD = findSignature(ZipDirectory.centralSignature, in: deflated)
        putLE32(177, into: &deflated, at: centralD + 24)
        putLE32(177, into: &deflated, at: findSignature(ZipDirectory.localSignature, in: deflated) + 22)
        #expect(archiveError(deflated, member: "weights") == "w.npz member 'weights': size mismatch: decompressed to 176 bytes, the central directory declares 177")
    }

    @Test func zipBombIsCutOffAtTheDeclaredSize() throws {
        var writer = NpzWriter(compression: .deflated)
        writer.add("bomb", NpyArray(float64: [Double](repeating: 0, count: 1 << 20), shape: [1 << 20]))  // 8 MiB of zeros
        var bytes = try writer.encode()
        let central = findSignature(ZipDirectory.centralSignature, in: bytes)
        putLE32(1000, into: &bytes, at: central + 24)
        putLE32(1000, into: &bytes, at: findSignature(ZipDirectory.localSignature, in: bytes) + 22)
        #expect(archiveError(bytes, member: "bomb") == "w.npz member 'bomb': decompressed data exceeds the declared 1000 bytes; inflation stopped there (zip bomb or wrong size)")
        // a declared size no deflate stream could reach is refused before allocating
        putLE32(0xFFFF_FFF0, into: &bytes, at: central + 24)
        putLE32(0xFFFF_FFF0, into: &bytes, at: findSignature(ZipDirectory.localSignature, in: bytes) + 22)
        let compressed = Int(bytes[central + 20]) | Int(bytes[central + 21]) << 8 | Int(bytes[central + 22]) << 16
        #expect(archiveError(bytes, member: "bomb") == "w.npz member 'bomb': declared uncompressed size 4294967280 is impossible for \(compressed) deflated bytes (deflate expands at most 1032:1); refused")
    }

    @Test func structuralErrors() throws {
        let bytes = try Self.sampleArchive(.stored)
        #expect(throws: NpyError(file: "w.npz", message: "not a zip archive: no end-of-central-directory record (PK\\x05\\x06) in the last 1000 bytes; the file is truncated or not an .npz")) {
            try NpzArchive(bytes: Array(bytes.prefix(1000)), origin: "w.npz")
        }
        var unknownMethod = bytes
        let central = findSignature(ZipDirectory.centralSignature, in: unknownMethod)
        unknownMethod[central + 10] = 12
        unknownMethod[findSignature(ZipDirectory.localSignature, in: unknownMethod) + 8] = 12
        #expect(archiveError(unknownMethod, member: "weights") == "w.npz member 'weights': unsupported compression method 12; expected 0 (stored) or 8 (deflated)")
    }

    @Test func memberThatIsNotNpy() throws {
        var writer = NpzWriter()
        writer.add("a", NpyArray(float32: [1], shape: [1]))
        var bytes = try writer.encode()
        let local = findSignature(ZipDirectory.localSignature, in: bytes)
        let dataStart = local + 30 + 5
        bytes[dataStart] = UInt8(ascii: "#")
        // keep the CRC right so that the magic check is what fails
        let crc = bytes[dataStart..<dataStart + 132].withUnsafeBytes { CRC32.checksum($0) }
        putLE32(crc, into: &bytes, at: local + 14)
        putLE32(crc, into: &bytes, at: findSignature(ZipDirectory.centralSignature, in: bytes) + 16)
        #expect(archiveError(bytes, member: "a") == "w.npz member 'a' at byte 0: the member is not a .npy array: expected the magic \\x93NUMPY, found '#NUMPY'")
    }
}
