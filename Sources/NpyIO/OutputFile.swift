#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A destination written in one pass: stdout, a special file, or a regular file replaced atomically.
///
/// - `"-"` writes to standard output (fd 1) directly.
/// - An existing path that is not a regular file (`/dev/null`, `/dev/full`, a FIFO) is opened and
///   written directly. A FIFO must get a reader within `FUSECTL_FIFO_WAIT` seconds (default 60), else
///   opening throws instead of blocking forever.
/// - Any other path is written to a temporary file `.NAME.tmp-XXXXXX` in the same folder, which
///   `commit()` fsyncs, gives the mode a new file would get (0666 & ~umask, or the replaced file's
///   mode), renames over the path and makes durable by fsyncing the folder. Until then the path keeps
///   its old content; `abandon()` (or deinit without commit) removes the temporary file.
///
/// Every failure throws `NpyError` naming the path (`<stdout>` for "-"); EPIPE is an error, never a
/// crash (callers ignore SIGPIPE). Not thread-safe.
public final class OutputFile {
    /// How the bytes reach `path`.
    public enum Mode: Sendable, Equatable { case standardOutput, direct, atomic }

    /// The path as given ("-" for stdout).
    public let path: String
    /// How the bytes reach `path`, decided when opening.
    public let mode: Mode
    /// The name errors carry: the path, or `<stdout>`.
    public var displayName: String { mode == .standardOutput ? "<stdout>" : path }
    /// Bytes written so far.
    public private(set) var bytesWritten = 0
    /// The CRC-32 (zip polynomial) of the bytes written so far.
    public private(set) var crc32: UInt32 = 0

    private var fd: Int32
    private var temporaryPath: String?
    private var targetPath: String
    private var keptMode: mode_t?
    private var finished = false
    /// Where the temporary file is recorded for clean-up on SIGINT/SIGTERM.
    private var registrySlot: Int?

    /// Whether `commit()` fsyncs the file and its folder (the rename is atomic either way).
    public let isDurable: Bool

    /// Opens the destination for `path` (see the type's rules).
    ///
    /// - Parameter durable: fsync the file and its folder on commit (default). `false` keeps the
    ///   atomic rename but lets the kernel write back later (for scratch output and benchmarks).
    /// - Throws: `NpyError` naming the path when the folder or file cannot be opened or created.
    public init(path: String, durable: Bool = true) throws {
        self.isDurable = durable
        self.path = path
        self.targetPath = path
        if path == "-" {
            mode = .standardOutput
            fd = 1
            return
        }
        var info = stat()
        if stat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG {
            if (info.st_mode & S_IFMT) == S_IFDIR {
                throw NpyError(file: path, message: "is a directory; expected a file path to write")
            }
            mode = .direct
            if (info.st_mode & S_IFMT) == S_IFIFO {
                fd = try FileDescriptorIO.openFIFOForWriting(path)  // never blocks without a reader
                return
            }
            fd = open(path, O_WRONLY | O_CLOEXEC)
            if fd < 0 { throw NpyError(file: path, message: "cannot open for writing: \(FileDescriptorIO.errnoText())") }
            return
        }
        mode = .atomic
        var target = path
        if stat(path, &info) == 0 {
            keptMode = info.st_mode & 0o7777
            if let resolved = realpath(path, nil) {  // replace the file a symlink points to, not the link
                target = String(cString: resolved)
                free(resolved)
            }
        }
        targetPath = target
        let slash = target.lastIndex(of: "/")
        let folder = slash.map { String(target[...$0]) } ?? ""
        let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
        let (descriptor, slot, temporary, code) = Self.createTemporaryFile(prefix: "\(folder).\(name).tmp-")
        fd = descriptor
        if fd < 0 {
            throw NpyError(file: path, message: "cannot create a temporary file in \(folder.isEmpty ? "the current folder" : "'\(folder)'"): \(FileDescriptorIO.errnoText(code))")
        }
        temporaryPath = temporary
        registrySlot = slot
    }

    deinit {
        if !finished { abandon() }
    }

    /// Creates `prefix` + 6 random letters or digits (mode 0600, O_EXCL), registered for the interrupt
    /// handler *before* it exists: a signal delivered to any thread at any point then finds every
    /// temporary file that exists (unlinking a registered name not yet created is harmless). mkstemp
    /// could not do this: its file exists before its name is known, and blocking the signals on the
    /// writing thread does not stop another thread (a worker) from taking them in that window.
    ///
    /// - Returns: the descriptor (-1 on failure), the registry slot, the path, and errno on failure.
    private static func createTemporaryFile(prefix: String) -> (Int32, Int?, String, Int32) {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let path = prefix + String((0..<6).map { _ in letters.randomElement(using: &generator)! })
            let (descriptor, slot, code) = TemporaryFileRegistry.withInterruptsDeferred { () -> (Int32, Int?, Int32) in
                let slot = TemporaryFileRegistry.register(path)
                let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                let code = errno
                if descriptor < 0, let slot { TemporaryFileRegistry.unregister(slot) }
                return (descriptor, descriptor < 0 ? nil : slot, code)
            }
            if descriptor >= 0 { return (descriptor, slot, path, 0) }
            if code != EEXIST { return (-1, nil, path, code) }
        }
        return (-1, nil, prefix, EEXIST)
    }

    /// Appends `bytes`. Throws `NpyError` naming the path on any write error (ENOSPC, EPIPE, …).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finished, "OutputFile \(path): write after commit/abandon")
        guard bytes.count > 0 else { return }
        try FileDescriptorIO.writeAll(fd, bytes, name: displayName)
        crc32 = CRC32.checksum(bytes, continuing: crc32)
        bytesWritten += bytes.count
    }

    /// Appends `bytes`; see `write(_:)`.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Finishes: for `.atomic`, fsync, set the mode, rename into place and fsync the folder; for
    /// `.direct`, close; for stdout, nothing (the bytes are already written).
    ///
    /// - Parameter beforeRename: for `.atomic` only, called with what was written once the temporary
    ///   file is complete and closed, just before it is renamed into place (a record describing the
    ///   file can be written first, so that the file never appears without it). Its modification time
    ///   survives the rename. Not called for stdout and special files.
    /// - Throws: `NpyError` naming the path, or what `beforeRename` throws; the temporary file is
    ///   removed on failure.
    public func commit(beforeRename: ((WrittenFile) throws -> Void)? = nil) throws {
        precondition(!finished, "OutputFile \(path): commit twice")
        switch mode {
        case .standardOutput:
            finished = true
        case .direct:
            finished = true
            if close(fd) != 0 && errno != EINTR {
                throw NpyError(file: path, message: "close failed: \(FileDescriptorIO.errnoText())")
            }
        case .atomic:
            do {
                let permissions = keptMode ?? OutputFile.defaultFileMode()
                if fchmod(fd, permissions) != 0 { throw NpyError(file: path, message: "cannot set the file mode: \(FileDescriptorIO.errnoText())") }
                if isDurable && fsync(fd) != 0 { throw NpyError(file: path, message: "fsync failed: \(FileDescriptorIO.errnoText())") }
                if close(fd) != 0 && errno != EINTR {
                    fd = -1
                    throw NpyError(file: path, message: "close failed: \(FileDescriptorIO.errnoText())")
                }
                fd = -1
                if let beforeRename {
                    var info = stat()
                    guard stat(temporaryPath!, &info) == 0 else {
                        throw NpyError(file: path, message: "cannot stat the temporary file: \(FileDescriptorIO.errnoText())")
                    }
                    try beforeRename(WrittenFile(
                        path: targetPath, byteCount: bytesWritten, crc32: crc32,
                        modificationNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)))
                }
                if rename(temporaryPath!, targetPath) != 0 {
                    throw NpyError(file: path, message: "cannot rename the temporary file into place: \(FileDescriptorIO.errnoText())")
                }
                temporaryPath = nil
                finished = true
                forgetTemporaryFile()
                if isDurable { syncFolder() }
            } catch {
                abandon()
                throw error
            }
        }
    }

    /// Gives up: closes and removes the temporary file (`.atomic`), closes (`.direct`). Idempotent.
    public func abandon() {
        guard !finished else { return }
        finished = true
        if mode != .standardOutput && fd >= 0 { close(fd) }
        if let temporaryPath { unlink(temporaryPath) }
        temporaryPath = nil
        forgetTemporaryFile()
    }

    private func forgetTemporaryFile() {
        if let registrySlot { TemporaryFileRegistry.unregister(registrySlot) }
        registrySlot = nil
    }

    /// Opens `path` (see `init(path:durable:)`), runs `body` with the output, and commits (calling
    /// `beforeRename` as `commit(beforeRename:)` does); abandons (removing the temporary file) when
    /// `body` or the commit throws, and rethrows.
    public static func write(to path: String, durable: Bool = true, beforeRename: ((WrittenFile) throws -> Void)? = nil,
                             _ body: (OutputFile) throws -> Void) throws {
        let output = try OutputFile(path: path, durable: durable)
        do {
            try body(output)
            try output.commit(beforeRename: beforeRename)
        } catch {
            output.abandon()
            throw error
        }
    }

    /// Removes temporary files that an earlier, killed writer of `path` left behind
    /// (`.NAME.tmp-XXXXXX` beside it). Call it only where no other process can be writing `path`
    /// at the same time (e.g. a manifest job owns its outputs). Errors are ignored.
    public static func removeStaleTemporaryFiles(for path: String) {
        guard path != "-" else { return }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let prefix = ".\(name).tmp-"
        guard let directory = opendir(folder.isEmpty ? "." : folder) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if entryName.hasPrefix(prefix) && entryName.count == prefix.count + 6 {
                unlink(folder + entryName)
            }
        }
    }

    private func syncFolder() {
        let slash = targetPath.lastIndex(of: "/")
        let folder = slash.map { String(targetPath[...$0]) } ?? "."
        let folderFD = open(folder, O_RDONLY | O_CLOEXEC)
        if folderFD >= 0 {
            _ = fsync(folderFD)
            close(folderFD)
        }
    }

    /// 0666 with the process umask applied, as open(2) would create a file.
    private static func defaultFileMode() -> mode_t {
        let mask = umask(0o022)
        umask(mask)
        return 0o666 & ~mask
    }
}

/// A complete output file as `OutputFile.commit(beforeRename:)` reports it, just before it takes its
/// name: enough to recognise the file later without reading it (size and modification time) and to
/// verify it when read (CRC-32).
public struct WrittenFile: Sendable, Equatable {
    /// The path the file is renamed to (symbolic links resolved).
    public var path: String
    public var byteCount: Int
    /// CRC-32 (zip polynomial) of all its bytes.
    public var crc32: UInt32
    /// Its modification time in nanoseconds since the epoch.
    public var modificationNanoseconds: Int64

    public init(path: String, byteCount: Int, crc32: UInt32, modificationNanoseconds: Int64) {
        self.path = path
        self.byteCount = byteCount
        self.crc32 = crc32
        self.modificationNanoseconds = modificationNanoseconds
    }
}
