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
    /// (memory stays proportional to the real size). `expected` sizes the first allocation; `prefix`
    /// holds bytes already read from `fd`.
    static func readToEnd(_ fd: Int32, name: String, expected: Int = 1 << 20, prefix: ArraySlice<UInt8> = []) throws -> ByteStorage {
        var capacity = max(4096, prefix.count, min(expected, 1 << 30))
        var pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        var count = prefix.count
        prefix.withUnsafeBytes { if $0.count > 0 { pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
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

    /// How long a FIFO's other end may take to appear (`load` waits for a writer, `OutputFile` for a
    /// reader): `FUSECTL_FIFO_WAIT` seconds (0…86400) if set, else 60.
    static let fifoWait: Double = {
        if let text = getenv("FUSECTL_FIFO_WAIT"), let seconds = Double(String(cString: text)),
           (0...86_400).contains(seconds) {
            return seconds
        }
        return 60
    }()

    /// Opens `path` read-only and maps it (PROT_READ, MAP_PRIVATE; the map is registered with
    /// ``MappedFileRegistry``); "-" reads all of stdin; a FIFO (a named pipe, or a `<(command)` path)
    /// is read to end of file once a writer has opened it.
    ///
    /// The open never blocks: a FIFO that no process opens for writing within
    /// ``fifoWait`` seconds is an error rather than a hang. A FIFO with a writer is read for as
    /// long as the writer keeps it open.
    ///
    /// Throws `NpyError` naming the path when it cannot be opened, stat'ed, mapped or read, is a
    /// directory, a device or a socket (only regular files, FIFOs and "-" are inputs: a device such as
    /// /dev/zero would never end), or is a FIFO without a writer.
    static func load(path: String) throws -> ByteStorage {
        if path == "-" { return try readToEnd(0, name: "<stdin>") }
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever if none comes.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw NpyError(file: path, message: "cannot open for reading: \(errnoText())") }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw NpyError(file: path, message: "cannot stat: \(errnoText())") }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            break
        case S_IFIFO:
            return try readFIFO(fd, name: path)
        case S_IFDIR:
            throw NpyError(file: path, message: "is a directory, expected a .npy or .npz file")
        case let kind:
            let what = kind == S_IFCHR ? "a character device" : kind == S_IFBLK ? "a block device" : kind == S_IFSOCK ? "a socket" : "not a regular file"
            throw NpyError(file: path, message: "is \(what); expected a regular file, a pipe or '-' (standard input)")
        }
        let size = Int(info.st_size)
        if size == 0 { return .empty }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw NpyError(file: path, message: "cannot memory-map \(size) bytes: \(errnoText())")
        }
        return .adoptMapping(mapped, length: size, path: path)
    }

    /// Reads a FIFO opened with O_NONBLOCK: waits (polling every 20 ms) until a writer has opened it,
    /// then reads to end of file in blocking mode.
    ///
    /// A non-blocking read returns data or EAGAIN once a writer is connected, and 0 while none is.
    private static func readFIFO(_ fd: Int32, name: String) throws -> ByteStorage {
        var first = [UInt8](repeating: 0, count: 1 << 16)
        var waited = 0.0
        while true {
            let got = first.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            let code = errno
            if got > 0 || (got < 0 && (code == EAGAIN || code == EWOULDBLOCK)) {
                guard clearNonBlocking(fd) else {
                    throw NpyError(file: name, message: "cannot switch the FIFO to blocking reads: \(errnoText())")
                }
                return try readToEnd(fd, name: name, prefix: first[0..<max(got, 0)])
            }
            if got < 0 && code != EINTR {
                throw NpyError(file: name, message: "read failed: \(errnoText(code))")
            }
            if waited >= fifoWait {
                throw NpyError(file: name, message: "is a FIFO that nothing wrote to: no writer opened it within \(formatSeconds(fifoWait)) s (FUSECTL_FIFO_WAIT sets the wait)")
            }
            usleep(20_000)
            waited += 0.02
        }
    }

    /// Opens a FIFO for writing without blocking: retries every 20 ms until a reader has opened it (ENXIO
    /// until then), for at most ``fifoWait`` seconds, then returns a descriptor in blocking mode.
    ///
    /// - Throws: `NpyError` naming `path` when no reader comes in time or the open fails otherwise.
    static func openFIFOForWriting(_ path: String) throws -> Int32 {
        var waited = 0.0
        while true {
            let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            if fd >= 0 {
                guard clearNonBlocking(fd) else {
                    let text = errnoText()
                    close(fd)
                    throw NpyError(file: path, message: "cannot switch the FIFO to blocking writes: \(text)")
                }
                return fd
            }
            let code = errno
            if code == EINTR { continue }
            guard code == ENXIO else { throw NpyError(file: path, message: "cannot open for writing: \(errnoText(code))") }
            if waited >= fifoWait {
                throw NpyError(file: path, message: "is a FIFO that nothing reads: no reader opened it within \(formatSeconds(fifoWait)) s (FUSECTL_FIFO_WAIT sets the wait)")
            }
            usleep(20_000)
            waited += 0.02
        }
    }

    /// Puts `fd` back into blocking mode; false (errno set) when fcntl fails.
    private static func clearNonBlocking(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        return flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0
    }

    /// `seconds` without a trailing ".0" (60, 0.5).
    private static func formatSeconds(_ seconds: Double) -> String {
        seconds == seconds.rounded() && seconds < 1e15 ? String(Int(seconds)) : String(seconds)
    }
}
