import Foundation

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

    /// Runs `fusectl arguments…` in `directory`, feeding `stdin`, and waits for it.
    @discardableResult
    static func run(_ arguments: [String], stdin: Data? = nil, in directory: URL? = nil) throws -> CommandOutcome {
        let process = Process()
        process.executableURL = binaryURL
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe(), errors = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        // Drain both pipes concurrently so that a large output cannot dead-lock the child.
        var stdoutData = Data(), stderrData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            stdoutData = output.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            stderrData = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        // A child that exits without reading all of stdin must not kill the test process with SIGPIPE.
        _ = ignoreSigpipe
        if let stdin { try? input.fileHandleForWriting.write(contentsOf: stdin) }
        try input.fileHandleForWriting.close()
        group.wait()
        process.waitUntilExit()
        return CommandOutcome(status: process.terminationStatus, stdout: stdoutData,
                              stderr: String(decoding: stderrData, as: UTF8.self))
    }
}

/// A fresh temporary folder, removed by `cleanUp()`.
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("fusectl-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// The repository's fixtures folder.
let fixturesURL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("fixtures")
