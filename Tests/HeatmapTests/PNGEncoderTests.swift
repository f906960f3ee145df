import CZlib
import Foundation
import Testing
@testable import Heatmap

@Suite struct PNGEncoderTests {
    /// A deterministic image whose bytes vary in every channel.
    private func sampleImage(width: Int, height: Int) -> RGBImage {
        var state: UInt32 = 12345
        let pixels = (0..<(width * height * 3)).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(state >> 24)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    @Test func roundTripsThroughTheDecoder() throws {
        let image = sampleImage(width: 37, height: 23)
        let decoded = try PNGDecoder.decode(PNGEncoder.encode(image))
        #expect(decoded.width == 37)
        #expect(decoded.height == 23)
        #expect(decoded.pixels == image.pixels)
        #expect(decoded.chunkTypes == ["IHDR", "IDAT", "IEND"])
    }

    @Test func splitsTheStreamOverSeveralIDATChunks() throws {
        let image = sampleImage(width: 40, height: 30)
        let png = PNGEncoder.encode(image, compressionLevel: 0, maxChunkSize: 1000)
        let decoded = try PNGDecoder.decode(png)
        #expect(decoded.pixels == image.pixels)
        // Stored (level 0) data is at least 30 · 121 bytes, so at least 4 chunks of ≤ 1000.
        #expect(decoded.chunkTypes.filter { $0 == "IDAT" }.count >= 4)
    }

    @Test func headerAndEndAreExact() {
        let png = PNGEncoder.encode(RGBImage(width: 258, height: 3, fill: .white))
        #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // IHDR: length 13, type, width 258, height 3, depth 8, colour type 2, 0, 0, 0.
        #expect(Array(png[8..<29]) == [0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 2, 0, 0, 0, 3, 8, 2, 0, 0, 0])
        // IEND with its well-known CRC 0xAE426082.
        #expect(Array(png.suffix(12)) == [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
    }

    @Test func crcMatchesTheStandardCheckValue() {
        // CRC-32 of "123456789" is 0xCBF43926 (the catalogue check value).
        #expect(PNGEncoder.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func scanlinesStartWithFilterNone() {
        let image = RGBImage(width: 2, height: 2, pixels: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        #expect(PNGEncoder.scanlines(of: image) == [0, 1, 2, 3, 4, 5, 6, 0, 7, 8, 9, 10, 11, 12])
    }

    @Test func decoderRejectsACorruptedChunk() throws {
        var png = PNGEncoder.encode(sampleImage(width: 8, height: 8))
        png[45] ^= 0x01  // inside the IDAT data (IHDR ends at byte 33, IDAT data starts at 41)
        #expect(throws: PNGDecodeError.self) { try PNGDecoder.decode(png) }
        do {
            _ = try PNGDecoder.decode(png)
        } catch let error as PNGDecodeError {
            #expect(error.description.hasPrefix("chunk IDAT at 33: CRC"))
        }
    }

    @Test func decoderUndoesEveryFilterType() throws {
        // Filter the scanlines of an image with types 0...4 in turn (rows cycle through them), compress,
        // and check the test decoder recovers the pixels: the decoder must be right for its checks to count.
        let image = sampleImage(width: 9, height: 10)
        let stride = 27
        var raw = [UInt8]()
        for y in 0..<image.height {
            let filter = UInt8(y % 5)
            raw.append(filter)
            for i in 0..<stride {
                let x = Int(image.pixels[y * stride + i])
                let a = i >= 3 ? Int(image.pixels[y * stride + i - 3]) : 0
                let b = y > 0 ? Int(image.pixels[(y - 1) * stride + i]) : 0
                let c = (i >= 3 && y > 0) ? Int(image.pixels[(y - 1) * stride + i - 3]) : 0
                let predictor = [0, a, b, (a + b) / 2, PNGDecoder.paeth(a, b, c)][Int(filter)]
                raw.append(UInt8(truncatingIfNeeded: x - predictor))
            }
        }
        #expect(try PNGDecoder.unfilter(raw, width: 9, height: 10) == image.pixels)
    }

    @Test func pythonDecodesTheSameFile() throws {
        let python = try PythonPNGCheck.python3()
        let image = sampleImage(width: 50, height: 20)
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("heatmap-python-check-\(ProcessInfo.processInfo.processIdentifier).png")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(PNGEncoder.encode(image, maxChunkSize: 500)).write(to: file)
        let points = [(x: 0, y: 0), (x: 49, y: 0), (x: 17, y: 11), (x: 49, y: 19)]
        let result = try PythonPNGCheck.decode(file: file, pixels: points, python: python)
        var expected = [50, 20]
        for point in points {
            let color = image[point.x, point.y]
            expected += [Int(color.red), Int(color.green), Int(color.blue)]
        }
        #expect(result == expected)
    }
}
