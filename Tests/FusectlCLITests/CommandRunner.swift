import Foundation
import TestSupport

/// What one run of the built `fusectl` binary did.
struct CommandOutcome {
    var status: Int32
    var stdout: Data
    var stderr: String
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs the built binary as a user would: `FUSECTL_BIN` if set (scripts/test.sh sets it to the release
/// build), else the debug build beside the test bundle.
enum Fusectl {
    private static let ignoreSigpipe: Void = { signal(SIGPIPE, SIG_IGN) }()

    static var binaryURL: URL {
        if let path = ProcessInfo.processInfo.environment["FUSECTL_BIN"] {
            return URL(fileURLWithPath: path)
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for configuration in ["debug", "release"] {
            let candidate = packageRoot.appendingPathComponent(".build/\(configuration)/fusectl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return packageRoot.appendingPathComponent(".build/debug/fusectl")
    }

    /// Runs `fusectl arguments…` in `directory`, feeding `stdin`, and waits for it. `environment`
    /// entries are added to (or replace) this process's environment.
    @discardableResult
    static func run(_ arguments: [String], stdin: Data? = nil, in directory: URL? = nil,
                    environment: [String: String] = [:]) throws -> CommandOutcome {
        let process = Process()
        process.executableURL = binaryURL
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let output = Pipe(), errors = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        // Drain stderr on another thread while this one feeds stdin and drains stdout, so that a large
        // output cannot dead-lock the child.
        let stderrBox = DataBox()
        let stderrDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            stderrBox.data = errors.fileHandleForReading.readDataToEndOfFile()
            stderrDone.signal()
        }
        // A child that exits without reading all of stdin must not kill the test process with SIGPIPE.
        _ = ignoreSigpipe
        if let stdin {
            let writer = input.fileHandleForWriting
            DispatchQueue.global().async {
                try? writer.write(contentsOf: stdin)
                try? writer.close()
            }
        } else {
            try input.fileHandleForWriting.close()
        }
        let stdoutData = output.fileHandleForReading.readDataToEndOfFile()
        stderrDone.wait()
        let stderrData = stderrBox.data
        process.waitUntilExit()
        return CommandOutcome(status: process.terminationStatus, stdout: stdoutData,
                              stderr: String(decoding: stderrData, as: UTF8.self))
    }
}

/// Bytes handed from a reader thread to the waiting one (the semaphore orders the accesses).
private final class DataBox: @unchecked Sendable {
    var data = Data()
}
