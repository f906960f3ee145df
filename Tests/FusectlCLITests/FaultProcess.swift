import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A `fusectl` child started with posix_spawn and reaped with wait4, so that a fault test can act on it
/// while it runs (write a FIFO, truncate an input, send a signal) and read its peak RSS afterwards.
/// Standard input is /dev/null or a file; standard output and error go to files in `folder`.
///
/// Peak RSS: Linux keeps a process's high-water mark across exec, and a child spawned from this (large)
/// test process starts with the test process's mark. With `measureMemory` the child therefore runs under
/// GNU `/usr/bin/time -f %M` (Debian's `time`, which scripts/setup.sh installs), whose own fork starts
/// small, and the figure is fusectl's alone. Without /usr/bin/time a measuring test fails under CI=true
/// and is skipped elsewhere: wait4's ru_maxrss would be the test runner's mark, not fusectl's.
final class FaultProcess {
    let pid: pid_t
    private let stdoutPath: String
    private let stderrPath: String
    /// Where /usr/bin/time writes the peak RSS, when measuring.
    private let timePath: String?
    private var finished: FaultOutcome?

    /// Starts `fusectl arguments…`; `stdoutPath` replaces the captured stdout file (e.g. a pipe's
    /// /dev/fd path is not used: pass a FIFO path to connect stdout to a reader). `launcher`, when given,
    /// is the program and its arguments that run instead of the fusectl binary, ending with a fusectl
    /// binary (e.g. `setpriv --reuid=65534 … /tmp/…/fusectl`); not with `measureMemory`.
    init(_ arguments: [String], folder: TemporaryFolder, stdinPath: String = "/dev/null", stdoutPath: String? = nil,
         environment: [String: String] = [:], measureMemory: Bool = false, launcher: [String]? = nil) throws {
        let tag = UUID().uuidString.prefix(8)
        if measureMemory {
            try requireAvailable(FileManager.default.isExecutableFile(atPath: "/usr/bin/time"),
                                 "/usr/bin/time (Debian package 'time'), without which the peak RSS would be the test runner's")
        }
        let useTime = measureMemory
        timePath = useTime ? folder.path("time-\(tag)") : nil
        self.stdoutPath = stdoutPath ?? folder.path("stdout-\(tag)")
        stderrPath = folder.path("stderr-\(tag)")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, self.stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // A clean signal state: Foundation's test threads may block or ignore some signals.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        precondition(launcher == nil || timePath == nil, "FaultProcess: a launcher cannot be combined with measureMemory")
        let fusectl = Fusectl.binaryURL.path
        let command = launcher ?? timePath.map { ["/usr/bin/time", "-f", "%M", "-o", $0, fusectl] } ?? [fusectl]
        let binary = command[0]
        var environmentList = ProcessInfo.processInfo.environment
        environmentList.merge(environment) { $1 }
        let argv: [UnsafeMutablePointer<CChar>?] = (command + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environmentList.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let code = posix_spawn(&child, binary, &actions, &attributes, argv, envp)
        guard code == 0 else { throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EINVAL) }
        pid = child
    }

    /// Waits for the child (at most `timeout` seconds, then SIGKILL) and returns what it did.
    @discardableResult
    func wait(timeout: Double = 60) throws -> FaultOutcome {
        if let finished { return finished }
        var status: Int32 = 0
        var usage = rusage()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while true {
            let reaped = wait4(pid, &status, WNOHANG, &usage)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECHILD) }
            if Date() > deadline && !timedOut {
                timedOut = true
                kill(pid, SIGKILL)
            }
            usleep(2000)
        }
        let signal = status & 0x7f
        var peak = usage.ru_maxrss
        if let timePath {
            // "%M" is the last line; GNU time puts "Command exited with non-zero status N" before it
            let text = String(decoding: Self.contents(of: timePath), as: UTF8.self)
            guard let line = text.split(separator: "\n").last, let kib = Int(line) else {
                throw FaultProcessError(message: "no peak RSS in /usr/bin/time's output: \(text)")
            }
            peak = kib
        }
        let outcome = FaultOutcome(
            exitStatus: signal == 0 ? (status >> 8) & 0xff : nil,
            signal: signal == 0 ? nil : signal,
            timedOut: timedOut,
            peakRSSKiB: peak,
            stdout: Self.contents(of: stdoutPath),
            stderr: String(decoding: Self.contents(of: stderrPath), as: UTF8.self))
        finished = outcome
        return outcome
    }

    /// The bytes of a regular file (empty when it cannot be read). Plain POSIX reads: Foundation's
    /// `Data(contentsOf:)` leaks its buffer for an empty file, which AddressSanitizer's leak check reports.
    static func contents(of path: String) -> Data {
        // O_NONBLOCK: a FIFO given as stdout must not block here once its writer is gone
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return Data() }
        defer { close(fd) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            data.append(contentsOf: chunk[0..<got])
        }
        return data
    }

    /// Runs `fusectl arguments…` to the end.
    static func run(_ arguments: [String], folder: TemporaryFolder, stdinPath: String = "/dev/null",
                    environment: [String: String] = [:], measureMemory: Bool = false, launcher: [String]? = nil,
                    timeout: Double = 60) throws -> FaultOutcome {
        try FaultProcess(arguments, folder: folder, stdinPath: stdinPath, environment: environment,
                         measureMemory: measureMemory, launcher: launcher).wait(timeout: timeout)
    }
}

struct FaultProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// How a `FaultProcess` ended.
struct FaultOutcome {
    /// The exit status, when it exited.
    var exitStatus: Int32?
    /// The signal that ended it, if one did.
    var signal: Int32?
    /// Whether it was killed for running past the timeout.
    var timedOut: Bool
    /// Peak RSS in KiB (see `FaultProcess` for how it is measured).
    var peakRSSKiB: Int
    var stdout: Data
    var stderr: String

    /// How it ended, for failure messages: "status 1, signal nil".
    var summary: String { "status \(String(describing: exitStatus)), signal \(String(describing: signal))" }
}

/// The sanitizer the binary under test was built with (scripts/sanitizers.sh sets FUSECTL_SANITIZER);
/// peak-memory bounds do not apply to a sanitized build (shadow memory and quarantine are not fusectl's).
let sanitizedBuild = ProcessInfo.processInfo.environment["FUSECTL_SANITIZER"] != nil

/// Names in `folder` that look like unfinished output files (`.NAME.tmp-XXXXXX`).
func temporaryFiles(in folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix(".") && $0.contains(".tmp-") }
}
