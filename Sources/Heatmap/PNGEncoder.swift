import CZlib

/// Writes an `RGBImage` as a PNG file (ISO/IEC 15948): 8-bit truecolour, no interlacing.
///
/// Layout: the 8-byte signature, `IHDR`, one or more `IDAT` chunks holding the zlib stream of all
/// scanlines (each prefixed by filter type 0, "None"), then `IEND`. Every chunk carries its CRC-32
/// (zlib's `crc32`) over type and data; lengths and CRCs are big-endian.
public enum PNGEncoder {
    /// The PNG bytes of `image`, ready to be written to a file.
    ///
    /// - Parameters:
    ///   - image: any valid image; its size is at most `Int32.max` on each side by construction.
    ///   - compressionLevel: zlib level, 0 (store) … 9 (smallest); default 6.
    ///   - maxChunkSize: the largest `IDAT` data length; the zlib stream is split across chunks
    ///     of at most this many bytes (default 1 MiB, range 1...Int32.max).
    /// - Complexity: O(width × height) time and memory (the filtered scanlines and their
    ///   compressed form are held in memory once each).
    /// - Precondition: zlib does not fail; it can only fail to allocate memory here.
    public static func encode(_ image: RGBImage, compressionLevel: Int = 6,
                              maxChunkSize: Int = 1 << 20) -> [UInt8] {
        precondition((0...9).contains(compressionLevel), "zlib compression level \(compressionLevel) is outside 0...9")
        precondition(maxChunkSize >= 1 && maxChunkSize <= Int(Int32.max),
                     "IDAT chunk size \(maxChunkSize) is outside 1...\(Int32.max)")
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

        var header = [UInt8]()
        appendBigEndian(UInt32(image.width), to: &header)
        appendBigEndian(UInt32(image.height), to: &header)
        header += [8, 2, 0, 0, 0]  // bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace
        appendChunk("IHDR", header, to: &png)

        let compressed = deflate(scanlines(of: image), level: compressionLevel)
        var start = 0
        repeat {
            let end = min(start + maxChunkSize, compressed.count)
            appendChunk("IDAT", compressed[start..<end], to: &png)
            start = end
        } while start < compressed.count

        appendChunk("IEND", [], to: &png)
        return png
    }

    /// Each row of the image prefixed by filter byte 0: `height * (1 + 3 * width)` bytes.
    static func scanlines(of image: RGBImage) -> [UInt8] {
        let rowBytes = image.width * 3
        var out = [UInt8](repeating: 0, count: image.height * (rowBytes + 1))
        for y in 0..<image.height {
            let source = y * rowBytes, target = y * (rowBytes + 1) + 1
            out[target..<(target + rowBytes)] = image.pixels[source..<(source + rowBytes)]
        }
        return out
    }

    /// A complete zlib stream (RFC 1950) of `data` at `level`.
    static func deflate(_ data: [UInt8], level: Int) -> [UInt8] {
        var bound = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(bound))
        let status = out.withUnsafeMutableBufferPointer { target in
            data.withUnsafeBufferPointer { source in
                compress2(target.baseAddress, &bound, source.baseAddress, uLong(source.count), Int32(level))
            }
        }
        precondition(status == Z_OK, "zlib compress2 failed with status \(status) on \(data.count) bytes")
        out.removeSubrange(Int(bound)...)
        return out
    }

    /// The CRC-32 of `bytes` as PNG and zlib define it (polynomial 0xEDB88320, reflected).
    static func crc32<Bytes: Collection>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let contiguous = Array(bytes)
        return contiguous.withUnsafeBufferPointer { buffer in
            UInt32(CZlib.crc32(0, buffer.baseAddress, uInt(buffer.count)))
        }
    }

    private static func appendChunk<Data: Collection>(_ type: String, _ data: Data, to png: inout [UInt8])
    where Data.Element == UInt8 {
        let typeBytes = Array(type.utf8)
        precondition(typeBytes.count == 4, "PNG chunk type '\(type)' is not 4 bytes")
        appendBigEndian(UInt32(data.count), to: &png)
        let body = typeBytes + data
        png += body
        appendBigEndian(crc32(body), to: &png)
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
