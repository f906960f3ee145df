import Foundation
import TestSupport
import NpyIO
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Outputs that cannot be written: each run ends with the exact error, status 1, and no output file
/// (no partial file, no temporary file, and no attention file written before the output failed).
@Suite struct FaultOutputTests {
    private func expectCleanFailure(_ outcome: FaultOutcome, _ message: String, folder: TemporaryFolder,
                                    sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcome.exitStatus == 1, "\(outcome.summary): \(outcome.stderr)",
                sourceLocation: sourceLocation)
        #expect(outcome.stderr == message + "\n", sourceLocation: sourceLocation)
        #expect(temporaryFiles(in: folder.url.path).isEmpty, "temporary files left: \(temporaryFiles(in: folder.url.path))",
                sourceLocation: sourceLocation)
    }

    private func fuseArguments(_ w: TinyWorkspace, out: String) -> [String] {
        ["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"),
         "--images", w.folder.path("images.npy"), "--out", out]
    }

    @Test func aFullDisk() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        // /dev/full takes the open and fails every write with ENOSPC; the header (128 bytes) is the first write
        let outcome = try FaultProcess.run(fuseArguments(w, out: "/dev/full") + ["--attention", w.folder.path("a.npy")], folder: w.folder)
        expectCleanFailure(outcome, "fusectl fuse: error: /dev/full: write failed after 0 of 128 bytes: No space left on device", folder: w.folder)
        #expect(!FileManager.default.fileExists(atPath: w.folder.path("a.npy")), "the attention maps stayed after the output failed")

        let initOutcome = try FaultProcess.run(["init", "--config", w.folder.path("config.json"), "--out", "/dev/full"], folder: w.folder)
        #expect(initOutcome.exitStatus == 1)
        #expect(initOutcome.stderr.hasPrefix("fusectl init: error: /dev/full: write failed after 0 of "), "\(initOutcome.stderr)")
        #expect(initOutcome.stderr.hasSuffix(" bytes: No space left on device\n"), "\(initOutcome.stderr)")
    }

    @Test func aFolderThatCannotBeWritten() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        // Root ignores permission bits, so the unwritable folder is a path below a regular file (ENOTDIR).
        try #require(FileManager.default.createFile(atPath: w.folder.path("plain"), contents: Data("x".utf8)))
        let out = w.folder.path("plain/out.npy")
        expectCleanFailure(try FaultProcess.run(fuseArguments(w, out: out), folder: w.folder),
                           "fusectl fuse: error: \(out): cannot create a temporary file in '\(w.folder.path("plain"))/': Not a directory",
                           folder: w.folder)
        #expect(try Data(contentsOf: URL(fileURLWithPath: w.folder.path("plain"))) == Data("x".utf8))

        // A read-only folder. Root ignores permission bits, so as root (how CI runs) fusectl runs as the
        // unprivileged user 65534 (nobody) through setpriv, from a copy of the binary in the workspace
        // (the workspace and its files are world-readable; the build folder need not be).
        try FileManager.default.createDirectory(atPath: w.folder.path("locked"), withIntermediateDirectories: false)
        #expect(chmod(w.folder.path("locked"), 0o555) == 0)
        defer { chmod(w.folder.path("locked"), 0o755) }
        var launcher: [String]? = nil
        if getuid() == 0 {
            let setpriv = executableOnPath("setpriv")
            try requireAvailable(setpriv != nil, "setpriv (util-linux), to run fusectl as an unprivileged user")
            let binary = w.folder.path("fusectl")
            try copyExecutable(Fusectl.binaryURL.path, to: binary)
            #expect(chmod(w.folder.url.path, 0o755) == 0)
            launcher = [setpriv!, "--reuid=65534", "--regid=65534", "--clear-groups", binary]
        }
        let locked = w.folder.path("locked/out.npy")
        var outcome = try FaultProcess.run(fuseArguments(w, out: locked), folder: w.folder, launcher: launcher)
        // A child forked by a parallel test between the copy's open and its close may still hold the
        // descriptor for an instant (exec then fails with ETXTBSY): try again.
        for _ in 0..<5 where outcome.stderr.contains("Text file busy") {
            usleep(200_000)
            outcome = try FaultProcess.run(fuseArguments(w, out: locked), folder: w.folder, launcher: launcher)
        }
        expectCleanFailure(outcome,
                           "fusectl fuse: error: \(locked): cannot create a temporary file in '\(w.folder.path("locked"))/': Permission denied",
                           folder: w.folder)
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.folder.path("locked")).isEmpty)
    }

    /// Copies an executable through an O_CLOEXEC descriptor: a child that other tests spawn meanwhile
    /// must not inherit the write end, or exec'ing the copy fails with ETXTBSY.
    private func copyExecutable(_ source: String, to path: String) throws {
        let data = FaultProcess.contents(of: source)
        try #require(!data.isEmpty, "cannot read \(source)")
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        try #require(fd >= 0, "cannot create \(path)")
        defer { close(fd) }
        var written = 0
        try data.withUnsafeBytes { raw in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                try #require(n > 0, "write to \(path) failed")
                written += n
            }
        }
    }

    @Test func anOutputPathThatIsAFolder() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try FileManager.default.createDirectory(atPath: w.folder.path("dir"), withIntermediateDirectories: false)
        expectCleanFailure(try FaultProcess.run(fuseArguments(w, out: w.folder.path("dir")), folder: w.folder),
                           "fusectl fuse: error: \(w.folder.path("dir")): is a directory; expected a file path to write", folder: w.folder)
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.folder.path("dir")).isEmpty)
    }

    /// A FIFO as --out that nobody reads: an error after FUSECTL_FIFO_WAIT seconds, never a hang.
    @Test func aFIFOOutputWithoutAReader() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let fifo = w.folder.path("out.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let started = Date()
        let outcome = try FaultProcess.run(fuseArguments(w, out: fifo), folder: w.folder, environment: ["FUSECTL_FIFO_WAIT": "0.5"])
        expectCleanFailure(outcome, "fusectl fuse: error: \(fifo): is a FIFO that nothing reads: no reader opened it within 0.5 s (FUSECTL_FIFO_WAIT sets the wait)",
                           folder: w.folder)
        #expect(Date().timeIntervalSince(started) < 20)
    }

    /// `fusectl fuse ... --attention - | head -c 10`: the reader goes away; fusectl reports EPIPE (it
    /// ignores SIGPIPE) with status 1 and writes no --out file.
    @Test func aClosedPipeOnStandardOutput() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        // attention maps (3, 2, 2, 20000) float32: 960,000 bytes, far beyond a pipe's 64 KiB
        try w.save("long.npy", (0..<(3 * 20_000 * 5)).map { Float($0 % 11) / 11 }, [3, 20_000, 5])
        let pipePath = w.folder.path("stdout.fifo")
        #expect(mkfifo(pipePath, 0o600) == 0)
        // The read end first, non-blocking (posix_spawn's vfork holds this thread until the child has
        // opened its end), then blocking reads.
        let reader = open(pipePath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        #expect(reader >= 0)
        let process = try FaultProcess(
            ["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"),
             "--images", w.folder.path("long.npy"), "--out", w.folder.path("out.npy"), "--attention", "-"],
            folder: w.folder, stdoutPath: pipePath)
        #expect(fcntl(reader, F_SETFL, fcntl(reader, F_GETFL) & ~O_NONBLOCK) == 0)
        var head = [UInt8](repeating: 0, count: 10)
        var got = 0
        while got < 10 {
            let n = head.withUnsafeMutableBytes { read(reader, $0.baseAddress! + got, 10 - got) }
            if n <= 0 { break }
            got += n
        }
        close(reader)  // like `head -c 10` exiting
        let outcome = try process.wait()
        #expect(got == 10)
        #expect(Array(head.prefix(6)) == [0x93] + Array("NUMPY".utf8))
        #expect(outcome.exitStatus == 1, "\(outcome.summary)")
        #expect(outcome.stderr.hasPrefix("fusectl fuse: error: <stdout>: write failed: the reader closed the pipe (EPIPE) after "),
                "\(outcome.stderr)")
        #expect(outcome.stderr.hasSuffix(" of 960000 bytes\n"), "\(outcome.stderr)")
        #expect(!w.outputExists, "out.npy was written although the attention maps failed")
        #expect(temporaryFiles(in: w.folder.url.path).isEmpty)
    }
}
