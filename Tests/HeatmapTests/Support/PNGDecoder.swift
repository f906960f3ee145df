import CZlib

/// A minimal, strict PNG reader for the tests: 8-bit RGB, no interlace, every CRC checked, the IDAT
/// stream inflated with zlib and all five scanline filters undone. Anything else is an error.
struct DecodedPNG {
    let width: Int
    let height: Int
    /// RGB8, row-major.
    let pixels: [UInt8]
    /// Chunk types in file order.
    let chunkTypes: [String]
}

struct PNGDecodeError: Error, CustomStringConvertible, Equatable {
    let description: String
    init(_ description: String) { self.description = description }
}

enum PNGDecoder {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func decode(_ bytes: [UInt8]) throws -> DecodedPNG {
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw PNGDecodeError("bad signature") }
        var offset = 8
        var types = [String]()
        var header: [UInt8]?
        var idat = [UInt8]()
        while offset < bytes.count {
            guard bytes.count - offset >= 12 else { throw PNGDecodeError("truncated chunk header at \(offset)") }
            let length = Int(bigEndian(bytes, offset))
            guard bytes.count - offset - 12 >= length else {
                throw PNGDecodeError("chunk at \(offset) declares \(length) bytes; only \(bytes.count - offset - 12) remain")
            }
            let typeAndData = Array(bytes[(offset + 4)..<(offset + 8 + length)])
            let type = String(decoding: typeAndData[0..<4], as: UTF8.self)
            let stored = bigEndian(bytes, offset + 8 + length)
            let computed = typeAndData.withUnsafeBufferPointer {
                UInt32(crc32(0, $0.baseAddress, uInt($0.count)))
            }
            guard stored == computed else {
                throw PNGDecodeError("chunk \(type) at \(offset): CRC \(stored) stored, \(computed) computed")
            }
            let data = Array(typeAndData[4...])
            switch type {
            case "IHDR": header = data
            case "IDAT": idat += data
            default: break
            }
            types.append(type)
            offset += 12 + length
        }
        guard types.first == "IHDR", types.last == "IEND", let header, header.count == 13 else {
            throw PNGDecodeError("chunks \(types): need IHDR first (13 bytes) and IEND last")
        }
        let width = Int(bigEndian(header, 0)), height = Int(bigEndian(header, 4))
        guard Array(header[8..<13]) == [8, 2, 0, 0, 0] else {
            throw PNGDecodeError("IHDR format \(Array(header[8..<13])); only 8-bit RGB, no interlace is supported")
        }
        let stride = width * 3
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var rawLength = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { target in
            idat.withUnsafeBufferPointer { source in
                uncompress(target.baseAddress, &rawLength, source.baseAddress, uLong(source.count))
            }
        }
        guard status == Z_OK, Int(rawLength) == raw.count else {
            throw PNGDecodeError("inflate: status \(status), \(rawLength) bytes, \(raw.count) expected")
        }
        return DecodedPNG(width: width, height: height, pixels: try unfilter(raw, width: width, height: height),
                          chunkTypes: types)
    }

    /// Undoes the PNG filters (None, Sub, Up, Average, Paeth) with 3 bytes per pixel.
    static func unfilter(_ raw: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        let stride = width * 3
        var out = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for i in 0..<stride {
                let x = raw[y * (stride + 1) + 1 + i]
                let a = i >= 3 ? Int(out[y * stride + i - 3]) : 0
                let b = y > 0 ? Int(out[(y - 1) * stride + i]) : 0
                let c = (i >= 3 && y > 0) ? Int(out[(y - 1) * stride + i - 3]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4: predictor = paeth(a, b, c)
                default: throw PNGDecodeError("row \(y) has filter type \(filter)")
                }
                out[y * stride + i] = UInt8(truncatingIfNeeded: Int(x) + predictor)
            }
        }
        return out
    }

    static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
        let p = a + b - c
        let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
        return pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
    }

    private static func bigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { ($0 << 8) | UInt32($1) }
    }
}
