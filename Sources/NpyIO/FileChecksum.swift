#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension NpyArray {
    /// The CRC-32 (zip polynomial) of the array's element bytes as stored, on all cores.
    public func contentChecksum() -> UInt32 {
        withUnsafeRawBytes { CRC32.parallelChecksum($0) }
    }
}

/// The size and CRC-32 (zip polynomial) of the whole file at `path`, read in 4 MiB pieces.
///
/// - Throws: `NpyError` naming the path when it cannot be opened or read.
public func fileChecksum(path: String) throws -> (byteCount: Int, crc32: UInt32) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw NpyError(file: path, message: "cannot open: \(FileDescriptorIO.errnoText())") }
    defer { close(fd) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 64)
    defer { buffer.deallocate() }
    var total = 0
    var crc: UInt32 = 0
    while true {
        let count = read(fd, buffer.baseAddress, buffer.count)
        if count < 0 {
            if errno == EINTR { continue }
            throw NpyError(file: path, message: "read failed: \(FileDescriptorIO.errnoText())")
        }
        if count == 0 { break }
        crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), continuing: crc)
        total += count
    }
    return (total, crc)
}
