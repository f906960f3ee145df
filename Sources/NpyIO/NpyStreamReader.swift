/// Reads .npy arrays written back to back on one stream (what repeated `np.save(f, a)` on one file
/// object produces), e.g. from stdin or a pipe. Each array's data goes into its own heap buffer that
/// grows with the bytes actually received, so a header claiming a huge shape costs nothing until
/// the data arrives.
///
/// Not thread-safe; one reader per descriptor. The descriptor is not closed.
public final class NpyStreamReader {
    private let fd: Int32
    private let context: ErrorContext
    private let limits: NpyLimits
    /// Bytes consumed from the stream so far (error offsets count from the stream's start).
    public private(set) var offset = 0
    /// Arrays returned so far.
    public private(set) var arraysRead = 0

    /// - Parameters:
    ///   - fileDescriptor: an open descriptor positioned at the start of an array.
    ///   - origin: the name errors and arrays carry (e.g. `<stdin>`).
    public init(fileDescriptor: Int32, origin: String, limits: NpyLimits = .default) {
        fd = fileDescriptor
        context = ErrorContext(file: origin)
        self.limits = limits
    }

    /// The next array, or nil at a clean end of stream (EOF exactly between arrays).
    ///
    /// - Throws: `NpyError` naming the origin and the stream offset for read failures, a truncated
    ///   preamble/header/data, and every header problem `NpyFile.read` reports.
    public func next() throws -> NpyArray? {
        let start = offset
        var preamble = [UInt8](repeating: 0, count: 12)
        let got = try preamble.withUnsafeMutableBytes {
            try FileDescriptorIO.readUpTo(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<8]), name: context.file)
        }
        offset += got
        if got == 0 { return nil }
        do {
            guard got == 8 else {
                throw context.error(at: 0 + got, "truncated: array \(arraysRead) ends inside its preamble after \(got) bytes")
            }
            let major = try preamble.withUnsafeBytes { try NpyHeader.parseMagic($0, context: context) }
            let preambleLength = NpyHeader.preambleLength(major: major)
            let more = try preamble.withUnsafeMutableBytes {
                try FileDescriptorIO.readUpTo(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[8..<preambleLength]), name: context.file)
            }
            offset += more
            guard more == preambleLength - 8 else {
                throw context.error(at: 8 + more, "truncated: array \(arraysRead) ends inside its preamble")
            }
            let headerLength = try preamble.withUnsafeBytes {
                try NpyHeader.parseHeaderLength($0, major: major, limits: limits, context: context)
            }
            var text = [UInt8](repeating: 0, count: headerLength)
            let textGot = try text.withUnsafeMutableBytes { try FileDescriptorIO.readUpTo(fd, into: $0, name: context.file) }
            offset += textGot
            guard textGot == headerLength else {
                throw context.error(at: preambleLength + textGot, "truncated: array \(arraysRead)'s header length field says \(headerLength) bytes, found \(textGot)")
            }
            let header = try NpyHeader.parseText(text, major: major, textOffset: preambleLength, context: context)
            let needed = try header.dataByteCount(context: context)
            let (storage, dataGot) = try readData(count: needed)
            offset += dataGot
            guard dataGot == needed else {
                throw context.error(at: header.dataOffset + dataGot, "truncated: array \(arraysRead) of shape \(NpyHeader.shapeRepr(header.shape)) and \(header.dtype) needs \(needed) data bytes, the stream ended after \(dataGot)")
            }
            arraysRead += 1
            return NpyArray(dtype: header.dtype, byteOrder: header.byteOrder, shape: header.shape,
                            fortranOrder: header.isFortranOrder, region: ByteRegion(storage: storage), source: context)
        } catch var error as NpyError {
            error.offset = error.offset.map { $0 + start }
            throw error
        }
    }

    /// Reads up to `count` bytes into a buffer grown as data arrives; returns it and the bytes read.
    private func readData(count: Int) throws -> (ByteStorage, Int) {
        guard count > 0 else { return (.empty, 0) }
        var capacity = min(count, 1 << 26)
        var pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        var filled = 0
        do {
            while filled < count {
                if filled == capacity {
                    let grown = min(count, capacity * 2)
                    let bigger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 64)
                    bigger.copyMemory(from: pointer, byteCount: filled)
                    pointer.deallocate()
                    pointer = bigger
                    capacity = grown
                }
                let got = try FileDescriptorIO.readUpTo(fd, into: UnsafeMutableRawBufferPointer(start: pointer + filled, count: capacity - filled), name: context.file)
                filled += got
                if filled < capacity { break }  // readUpTo only stops short at end of stream
            }
        } catch {
            pointer.deallocate()
            throw error
        }
        return (.adoptHeap(pointer, count: filled), filled)
    }
}
