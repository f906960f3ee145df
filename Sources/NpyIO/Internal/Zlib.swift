import CZlib

/// Thin wrappers over zlib: raw inflate bounded by a declared size, raw deflate (CRC-32 is ``CRC32``).
enum Zlib {
    /// Why an inflate stopped early or went too far.
    enum InflateProblem: Error, Equatable {
        /// The stream would produce more than the declared size (a bomb or a wrong size).
        case exceedsDeclaredSize
        /// The stream ended after `produced` bytes, fewer than declared.
        case shorterThanDeclared(produced: Int)
        /// The input ran out before the end-of-stream marker.
        case truncated(produced: Int)
        /// zlib reported corrupt data (its message).
        case corrupt(String)
    }

    /// Inflates the raw deflate stream `input` into `output`, which has exactly the declared size,
    /// and returns the CRC-32 of the output (computed window by window while it is still in cache).
    /// Never writes past `output`; stops as soon as the stream would produce one byte more.
    ///
    /// - Throws: `InflateProblem`.
    @discardableResult
    static func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> UInt32 {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw InflateProblem.corrupt("inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        let window = 1 << 18  // output produced per call, CRC'd while hot
        var inOffset = 0, outOffset = 0
        var crc: UInt32 = 0
        var overflowProbe: UInt8 = 0
        while true {
            let inChunk = min(input.count - inOffset, 1 << 30)
            stream.next_in = inChunk > 0 ? UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self) + inOffset) : nil
            stream.avail_in = UInt32(inChunk)
            let outChunk = min(output.count - outOffset, window)
            let status: Int32
            if outChunk > 0 {
                stream.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self) + outOffset
                stream.avail_out = UInt32(outChunk)
                status = CZlib.inflate(&stream, Z_NO_FLUSH)
                let produced = outChunk - Int(stream.avail_out)
                crc = CRC32.checksum(UnsafeRawBufferPointer(start: output.baseAddress! + outOffset, count: produced), continuing: crc)
                outOffset += produced
            } else {
                // The declared size is reached: probe whether the stream has one more byte.
                status = withUnsafeMutablePointer(to: &overflowProbe) { probe -> Int32 in
                    stream.next_out = probe
                    stream.avail_out = 1
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                if stream.avail_out == 0 { throw InflateProblem.exceedsDeclaredSize }
            }
            inOffset += inChunk - Int(stream.avail_in)
            switch status {
            case Z_STREAM_END:
                if outOffset < output.count { throw InflateProblem.shorterThanDeclared(produced: outOffset) }
                return crc
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // no progress possible: either input exhausted or output full (handled by the probe)
                if inOffset >= input.count { throw InflateProblem.truncated(produced: outOffset) }
                continue
            case Z_DATA_ERROR:
                throw InflateProblem.corrupt(stream.msg.map { String(cString: $0) } ?? "invalid deflate data")
            case Z_MEM_ERROR:
                throw InflateProblem.corrupt("out of memory")
            default:
                throw InflateProblem.corrupt("zlib status \(status)")
            }
        }
    }

    /// Raw-deflates (no zlib header, as zip stores it) the concatenation of `parts` at zlib's default
    /// level 6 (what `np.savez_compressed` uses), returning the compressed bytes.
    static func deflate(_ parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        var stream = z_stream()
        let initStatus = deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                                       ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(initStatus == Z_OK, "deflateInit2 failed with \(initStatus)")
        defer { deflateEnd(&stream) }
        var output: [UInt8] = []
        let chunkSize = 1 << 20
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        for (index, part) in parts.enumerated() {
            var offset = 0
            let isLast = index == parts.count - 1
            repeat {
                let inChunk = min(part.count - offset, 1 << 30)
                stream.next_in = inChunk > 0 ? UnsafeMutablePointer(mutating: part.baseAddress!.assumingMemoryBound(to: Bytef.self) + offset) : nil
                stream.avail_in = UInt32(inChunk)
                let flush = isLast && offset + inChunk == part.count ? Z_FINISH : Z_NO_FLUSH
                var status: Int32
                repeat {
                    status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                        stream.next_out = buffer.baseAddress!
                        stream.avail_out = UInt32(chunkSize)
                        return CZlib.deflate(&stream, flush)
                    }
                    output.append(contentsOf: chunk[0..<(chunkSize - Int(stream.avail_out))])
                } while stream.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END)
                offset += inChunk
            } while offset < part.count
        }
        if parts.isEmpty { return deflate([UnsafeRawBufferPointer(start: nil, count: 0)]) }
        return output
    }
}
