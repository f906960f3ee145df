#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain POSIX reading and writing with EINTR retries and errors turned into `NpyError`.
enum FileDescriptorIO {
    /// The text of `errno` (e.g. "No space left on device").
    static func errnoText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
    ///
    /// Throws `NpyError` naming `name` when a write fails (EPIPE included: the reader went away).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, name: String) throws {
        var done = 0
        while done < bytes.count {
            let chunk = min(bytes.count - done, 1 << 30)
            let written = write(fd, bytes.baseAddress! + done, chunk)
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EPIPE {
                    throw NpyError(file: name, message: "write failed: the reader closed the pipe (EPIPE) after \(done) of \(bytes.count) bytes")
                }
                throw NpyError(file: name, message: "write failed after \(done) of \(bytes.count) bytes: \(errnoText(code))")
            }
            if written == 0 {
                throw NpyError(file: name, message: "write made no progress after \(done) of \(bytes.count) bytes")
            }
            done += written
        }
    }

    /// Reads up to `count` bytes into `buffer`, stopping early only at end of file. Returns the bytes read.
    static func readUpTo(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, name: String) throws -> Int {
        var done = 0
        while done < buffer.count {
            let got = read(fd, buffer.baseAddress! + done, min(buffer.count - done, 1 << 30))
            if got < 0 {
                let code = errno
                if code == EINTR { continue }
                throw NpyError(file: name, message: "read failed after \(done) bytes: \(errnoText(code))")
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// Reads `fd` to end of file into a heap storage that grows with the data actually read
    /// (memory stays proportional to the real size). `expected` sizes the first allocation.
    static func readToEnd(_ fd: Int32, name: String, expected: Int = 1 << 20) throws -> ByteStorage {
        var capacity = max(4096, min(expected, 1 << 30))
        var pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        var count = 0
        do {
            while true {
                if count == capacity {
                    let (doubled, overflow) = capacity.multipliedReportingOverflow(by: 2)
                    precondition(!overflow, "read buffer of \(capacity) bytes cannot grow")
                    let grown = UnsafeMutableRawPointer.allocate(byteCount: doubled, alignment: 64)
                    grown.copyMemory(from: pointer, byteCount: count)
                    pointer.deallocate()
                    pointer = grown
                    capacity = doubled
                }
                let got = try readUpTo(fd, into: UnsafeMutableRawBufferPointer(start: pointer + count, count: capacity - count), name: name)
                if got == 0 { break }
                count += got
            }
        } catch {
            pointer.deallocate()
            throw error
        }
        if count == 0 {
            pointer.deallocate()
            return .empty
        }
        return .adoptHeap(pointer, count: count)
    }

    /// Opens `path` read-only and maps it (PROT_READ, MAP_PRIVATE); "-" reads all of stdin;
    /// anything that is not a regular file (FIFO, character device) is read to end of file.
    ///
    /// Throws `NpyError` naming the path when it cannot be opened, stat'ed, mapped or read.
    static func load(path: String) throws -> ByteStorage {
        if path == "-" { return try readToEnd(0, name: "<stdin>") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw NpyError(file: path, message: "cannot open for reading: \(errnoText())") }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw NpyError(file: path, message: "cannot stat: \(errnoText())") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw NpyError(file: path, message: "is a directory, expected a .npy or .npz file") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return try readToEnd(fd, name: path) }
        let size = Int(info.st_size)
        if size == 0 { return .empty }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw NpyError(file: path, message: "cannot memory-map \(size) bytes: \(errnoText())")
        }
        return .adoptMapping(mapped, length: size)
    }
}
