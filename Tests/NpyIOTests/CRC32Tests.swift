import CRCFold
import CZlib
import Testing
@testable import NpyIO

@Suite struct CRC32Tests {
    /// zlib's own crc32_z, the reference the zip format was checked with before libdeflate.
    static func zlibCRC(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { UInt32(truncatingIfNeeded: crc32_z(0, $0.bindMemory(to: Bytef.self).baseAddress, z_size_t($0.count))) }
    }

    /// Bytes that are not periodic in any small power of two (a multiplicative hash of the index).
    static func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: (UInt64($0) &* 0x9E37_79B9_7F4A_7C15) >> 56) }
    }

    @Test func checkStringAndContinuation() {
        let check = Array("123456789".utf8)
        #expect(check.withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
        let split = check.withUnsafeBytes { all in
            CRC32.checksum(UnsafeRawBufferPointer(rebasing: all[4...]), continuing: CRC32.checksum(UnsafeRawBufferPointer(rebasing: all[..<4])))
        }
        #expect(split == 0xCBF4_3926)
        #expect([UInt8]().withUnsafeBytes { CRC32.checksum($0) } == 0)
    }

    @Test func agreesWithZlibAtEveryLengthAndAlignment() {
        let data = Self.bytes(4096 + 64)
        for length in [0, 1, 3, 15, 16, 17, 63, 64, 65, 255, 256, 1000, 4096] {
            for shift in 0..<8 {
                let slice = Array(data[shift..<shift + length])
                #expect(slice.withUnsafeBytes { CRC32.checksum($0) } == Self.zlibCRC(slice), "length \(length), shift \(shift)")
            }
        }
    }

    /// The AVX-512 folding path on its own (when this CPU has it): every length across the 256- and
    /// 64-byte steps, unaligned starts, a running CRC to continue, and a buffer of several MiB.
    @Test(.enabled(if: crc_fold_uses_vpclmulqdq() != 0, "no AVX-512 VPCLMULQDQ on this CPU"))
    func foldingAgreesWithZlib() {
        let data = Self.bytes(5_000)
        data.withUnsafeBytes { all in
            for length in 0...2_200 {
                for shift in [0, 1, 7] {
                    let piece = UnsafeRawBufferPointer(rebasing: all[shift..<shift + length])
                    let expected = Self.zlibCRC(Array(piece))
                    #expect(crc_fold_crc32_vpclmulqdq(0, piece.baseAddress, piece.count) == expected, "length \(length), shift \(shift)")
                    let start = UnsafeRawBufferPointer(rebasing: piece[..<(length / 3)])
                    let rest = UnsafeRawBufferPointer(rebasing: piece[(length / 3)...])
                    let continued = crc_fold_crc32_vpclmulqdq(crc_fold_crc32_vpclmulqdq(0, start.baseAddress, start.count),
                                                              rest.baseAddress, rest.count)
                    #expect(continued == expected, "length \(length), shift \(shift), continued")
                }
            }
        }
        let big = Self.bytes(5 << 20 | 77)
        #expect(big.withUnsafeBytes { crc_fold_crc32_vpclmulqdq(0, $0.baseAddress, $0.count) } == Self.zlibCRC(big))
    }

    @Test func combineJoinsTwoPieces() {
        let data = Self.bytes(100_003)
        for cut in [0, 1, 4096, 50_000, 100_003] {
            let first = Self.zlibCRC(Array(data[..<cut])), second = Self.zlibCRC(Array(data[cut...]))
            #expect(CRC32.combine(first, second, secondCount: data.count - cut) == Self.zlibCRC(data), "cut at \(cut)")
        }
    }

    @Test func parallelChecksumEqualsOnePassForEverySplit() {
        let data = Self.bytes(3 * CRC32.parallelThreshold + 12_345)
        let expected = Self.zlibCRC(data)
        data.withUnsafeBytes { all in
            for pieces in [1, 2, 3, 5, 7, 64] {
                #expect(CRC32.parallelChecksum(all, pieces: pieces) == expected, "\(pieces) pieces")
            }
            let small = UnsafeRawBufferPointer(rebasing: all[..<1000])
            #expect(CRC32.parallelChecksum(small, pieces: 4) == Self.zlibCRC(Array(data[..<1000])))
        }
    }
}
