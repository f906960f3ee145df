import Foundation
import TestSupport
import NpyIO
import Testing

/// Files whose headers claim absurd sizes: each fails fast, with a clear error, and the process's peak
/// RSS (its own, from wait4) stays under 100 MB — nothing is allocated on the word of a header.
@Suite struct FaultMemoryTests {
    static let peakLimitKiB = 100 * 1024

    private func expectFastCleanFailure(_ arguments: [String], _ message: String, in folder: TemporaryFolder,
                                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let started = Date()
        let outcome = try FaultProcess.run(arguments, folder: folder, measureMemory: true)
        let elapsed = Date().timeIntervalSince(started)
        #expect(outcome.exitStatus == 1, "\(outcome.summary): \(outcome.stderr)",
                sourceLocation: sourceLocation)
        #expect(outcome.stderr == message + "\n", sourceLocation: sourceLocation)
        #expect(elapsed < 10, "\(arguments[0]) took \(elapsed) s", sourceLocation: sourceLocation)
        print("\(arguments[0]) \(arguments.last!): peak RSS \(outcome.peakRSSKiB) KiB, \(String(format: "%.2f", elapsed)) s")
        if !sanitizedBuild {
            #expect(outcome.peakRSSKiB < Self.peakLimitKiB, "peak RSS \(outcome.peakRSSKiB) KiB", sourceLocation: sourceLocation)
        }
    }

    /// A .npy header claiming (1000000, 1000000) float32 (4·10^12 bytes) over 64 bytes of data.
    @Test func aHeaderClaimingATrillionElements() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let path = w.folder.path("huge.npy")
        let header = NpyFile.header(for: NpyArray(float32: [], shape: [0]))
        var text = String(decoding: header[10...], as: UTF8.self)
        text = text.replacingOccurrences(of: "(0,)", with: "(1000000, 1000000)")
        var bytes = Array(header[0..<8]) + [UInt8(text.utf8.count & 0xff), UInt8(text.utf8.count >> 8)] + Array(text.utf8)
        bytes += [UInt8](repeating: 0, count: 64)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let message = "\(path) at byte \(bytes.count): truncated: shape (1000000, 1000000) of float32 needs 4000000000000 data bytes, found 64"
        try expectFastCleanFailure(["inspect", path], "fusectl inspect: error: \(message)", in: w.folder)
        try expectFastCleanFailure(
            ["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"), "--images", path,
             "--out", w.folder.path("out.npy")], "fusectl fuse: error: \(message)", in: w.folder)
        #expect(!w.outputExists)
    }

    /// An .npz whose stored member claims 100 GB (ZIP64 sizes) in a file of a few hundred bytes, and
    /// one whose deflated member claims 100 GB from 20 compressed bytes.
    @Test func aMemberClaiming100GB() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let member = NpyFile.encode(NpyArray(float32: [1, 2, 3], shape: [3]))
        let stored = w.folder.path("stored100g.npz")
        try Data(ZipBuilder.archive(name: "text.npy", method: 0, crc: 0, data: member,
                                    compressedSize: 100_000_000_000, uncompressedSize: 100_000_000_000))
            .write(to: URL(fileURLWithPath: stored))
        let deflated = w.folder.path("deflated100g.npz")
        let stream = try ZipBuilder.deflated(member)
        try Data(ZipBuilder.archive(name: "text.npy", method: 8, crc: 0, data: stream,
                                    compressedSize: stream.count, uncompressedSize: 100_000_000_000))
            .write(to: URL(fileURLWithPath: deflated))

        // local header 30 + name 8 + ZIP64 extra 20 bytes, then the member's real 140 bytes
        try expectFastCleanFailure(
            ["inspect", stored],
            "fusectl inspect: error: \(stored) member 'text.npy' at byte 58: member data of 100000000000 bytes at offset 58 runs past the central directory at \(58 + member.count) (truncated?)",
            in: w.folder)
        let deflatedMessage = "\(deflated) member 'text': declared uncompressed size 100000000000 is impossible for \(stream.count) deflated bytes (deflate expands at most 1032:1); refused"
        try expectFastCleanFailure(["inspect", deflated], "fusectl inspect: error: \(deflatedMessage)", in: w.folder)
        let weights = w.folder.path("weights100g.npz")
        try Data(ZipBuilder.archive(name: "config.npy", method: 8, crc: 0, data: stream,
                                    compressedSize: stream.count, uncompressedSize: 100_000_000_000))
            .write(to: URL(fileURLWithPath: weights))
        try expectFastCleanFailure(["fuse", "--weights", weights, "--text", w.folder.path("text.npy"), "--images", w.folder.path("images.npy"),
                                    "--out", w.folder.path("out.npy")],
                                   "fusectl fuse: error: \(weights) member 'config': declared uncompressed size 100000000000 is impossible for \(stream.count) deflated bytes (deflate expands at most 1032:1); refused",
                                   in: w.folder)
        try expectFastCleanFailure(["fuse", "--weights", w.folder.path("w.npz"), "--batch", deflated, "--out", w.folder.path("out.npy")],
                                   "fusectl fuse: error: \(deflatedMessage)", in: w.folder)
        #expect(!w.outputExists)
    }

    /// A deflated member that inflates to 1000× its declared size (1 MB of zeros declared as 1,049 bytes):
    /// inflation stops at the declared size.
    @Test func aMemberInflating1000TimesItsDeclaredSize() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let member = NpyFile.encode(NpyArray(float32: [Float](repeating: 0, count: 262_144), shape: [262_144]))
        let stream = try ZipBuilder.deflated(member)
        let declared = member.count / 1000
        let bomb = w.folder.path("bomb.npz")
        try Data(ZipBuilder.archive(name: "text.npy", method: 8, crc: 0, data: stream,
                                    compressedSize: stream.count, uncompressedSize: declared))
            .write(to: URL(fileURLWithPath: bomb))
        let message = "\(bomb) member 'text': decompressed data exceeds the declared \(declared) bytes; inflation stopped there (zip bomb or wrong size)"
        try expectFastCleanFailure(["inspect", bomb], "fusectl inspect: error: \(message)", in: w.folder)
        try expectFastCleanFailure(["fuse", "--weights", w.folder.path("w.npz"), "--batch", bomb, "--out", w.folder.path("out.npy")],
                                   "fusectl fuse: error: \(message)", in: w.folder)
        #expect(!w.outputExists)
    }
}

/// Hand-made one-member zip archives whose headers say whatever a test wants.
enum ZipBuilder {
    /// A raw deflate stream of `bytes`, cut out of an archive NpzWriter compressed.
    static func deflated(_ bytes: [UInt8]) throws -> [UInt8] {
        var writer = NpzWriter(compression: .deflated)
        writer.add("m", try NpyFile.read(bytes: bytes, origin: "member"))
        let zip = try writer.encode()
        func le(_ offset: Int, _ count: Int) -> Int { (0..<count).reduce(0) { $0 | Int(zip[offset + $1]) << (8 * $1) } }
        let compressed = le(18, 4), nameLength = le(26, 2), extraLength = le(28, 2)
        precondition(compressed != 0xFFFF_FFFF, "the test's member is too large for a 32-bit local header")
        let start = 30 + nameLength + extraLength
        return Array(zip[start..<(start + compressed)])
    }

    /// A one-member archive: local header, `data`, central directory, end record. Sizes of 2^32−1 or
    /// more go into ZIP64 extra fields (local and central), as zip writers do.
    static func archive(name: String, method: UInt16, crc: UInt32, data: [UInt8], compressedSize: Int, uncompressedSize: Int) -> [UInt8] {
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        func le64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let zip64 = compressedSize >= 0xFFFF_FFFF || uncompressedSize >= 0xFFFF_FFFF
        let extra = zip64 ? le16(1) + le16(16) + le64(uncompressedSize) + le64(compressedSize) : []
        let sizes = zip64 ? le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF) : le32(compressedSize) + le32(uncompressedSize)
        let nameBytes = Array(name.utf8)
        let version = le16(zip64 ? 45 : 20)
        let common = version + le16(0) + le16(Int(method)) + le16(0) + le16(0x21) + le32(Int(crc)) + sizes
            + le16(nameBytes.count) + le16(extra.count)
        let local = le32(0x0403_4b50) + common + nameBytes + extra
        let central = le32(0x0201_4b50) + le16(45) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(0)
            + nameBytes + extra
        let directoryOffset = local.count + data.count
        let end = le32(0x0605_4b50) + le16(0) + le16(0) + le16(1) + le16(1) + le32(central.count) + le32(directoryOffset) + le16(0)
        return local + data + central + end
    }
}
