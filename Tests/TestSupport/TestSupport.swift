// Shared test helpers: fixture lookup, closeness checks that name the worst index, temporary
// folders, a python3/numpy runner for cross-checks, and `requireAvailable`, which fails a test whose
// tool or input is missing under CI=true and skips it elsewhere.
import Foundation
import Testing

/// The repository's `fixtures/` folder (found from this file's path), or a file inside it.
public func fixturesURL(_ relative: String = "", filePath: String = #filePath) -> URL {
    var folder = URL(fileURLWithPath: filePath).deletingLastPathComponent()
    while folder.path != "/" {
        let candidate = folder.appendingPathComponent("fixtures")
        if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("npy").path) {
            return relative.isEmpty ? candidate : candidate.appendingPathComponent(relative)
        }
        folder.deleteLastPathComponent()
    }
    fatalError("no fixtures/ folder above \(filePath)")
}

/// Records one issue when any `|actual[i] - expected[i]| > atol + rtol·|expected[i]|` (NaN matches
/// NaN only when `equalNaN`), naming the count of mismatches and the worst index with both values.
public func assertClose(_ actual: [Double], _ expected: [Double], rtol: Double = 0, atol: Double = 0,
                        equalNaN: Bool = true, _ what: String = "",
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(what): expected \(expected.count) elements, found \(actual.count)", sourceLocation: sourceLocation)
        return
    }
    var mismatches = 0
    var worst: (index: Int, excess: Double)? = nil
    for i in actual.indices {
        let a = actual[i], e = expected[i]
        if a.isNaN || e.isNaN {
            if !(equalNaN && a.isNaN && e.isNaN) {
                mismatches += 1
                if worst == nil || worst!.excess != .infinity { worst = (i, .infinity) }
            }
            continue
        }
        if a == e { continue }  // also equal infinities
        let excess = abs(a - e) - (atol + rtol * abs(e))
        if excess > 0 || excess.isNaN {
            mismatches += 1
            if worst == nil || excess > worst!.excess { worst = (i, excess.isNaN ? .infinity : excess) }
        }
    }
    if let worst {
        Issue.record("\(what): \(mismatches) of \(actual.count) elements differ beyond atol \(atol) rtol \(rtol); worst at index \(worst.index): expected \(expected[worst.index]), found \(actual[worst.index])",
                     sourceLocation: sourceLocation)
    }
}

/// Float version of `assertClose`.
public func assertClose(_ actual: [Float], _ expected: [Float], rtol: Double = 0, atol: Double = 0,
                        equalNaN: Bool = true, _ what: String = "",
                        sourceLocation: SourceLocation = #_sourceLocation) {
    assertClose(actual.map(Double.init), expected.map(Double.init), rtol: rtol, atol: atol,
                equalNaN: equalNaN, what, sourceLocation: sourceLocation)
}

/// A fresh temporary folder; callers remove it with `remove()` (usually in a `defer`).
public struct TemporaryFolder {
    public let url: URL
    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("npyio-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    /// A path inside the folder.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    public func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Whether this is a CI run: the environment's `CI` is `true` or `1` (as CI services set it).
public let isContinuousIntegration: Bool = {
    let value = ProcessInfo.processInfo.environment["CI"]?.lowercased()
    return value == "true" || value == "1"
}()

/// What a test needed from outside the package (a tool, an input file) and did not find, thrown under
/// `CI=true` so that the test fails with a message naming it.
public struct MissingRequirement: Error, CustomStringConvertible {
    public let description: String
}

/// Ends the test when `available` is false, so that a test never passes without checking anything:
/// under `CI=true` (see ``isContinuousIntegration``) it throws ``MissingRequirement`` ("missing: WHAT"),
/// a failure; elsewhere it cancels the test with Swift Testing's `Test.cancel`, which reports it as
/// skipped. Call it first thing in the test (or wherever the need is discovered).
///
/// - Throws: ``MissingRequirement`` under CI, Swift Testing's cancellation otherwise; nothing when available.
public func requireAvailable(_ available: Bool, _ what: @autoclosure () -> String,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard !available else { return }
    let message = "missing: \(what())"
    if isContinuousIntegration {
        throw MissingRequirement(description: message + " (CI=true: a test must not pass without checking)")
    }
    try Test.cancel("skipped, \(message)", sourceLocation: sourceLocation)
}

/// The first executable `name` on PATH, or nil.
public func executableOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for folder in path.split(separator: ":") where !folder.isEmpty {
        let candidate = "\(folder)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Runs python3 (the one on PATH, which `scripts/setup.sh` gives numpy) for cross-checks. Tests that
/// need it call ``require()`` first: a failure under CI when it is missing, a skip elsewhere.
public enum PythonNumpy {
    /// True when `python3 -c "import numpy"` succeeds.
    public static let isAvailable: Bool = (try? run("import numpy")) != nil

    /// Ends the test (see ``requireAvailable(_:_:sourceLocation:)``) when python3 with numpy is missing.
    public static func require(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try requireAvailable(isAvailable, "python3 with numpy on PATH (bash scripts/setup.sh installs it)",
                             sourceLocation: sourceLocation)
    }

    /// Runs `script` with `python3 -c`, passing `arguments` as sys.argv[1...]; returns stdout.
    /// Throws when python3 cannot start or exits non-zero (the message includes stderr).
    @discardableResult
    public static func run(_ script: String, arguments: [String] = []) throws -> String {
        try launch(["-c", script] + arguments)
    }

    /// Runs the Python file at `path` with `arguments`; returns stdout. Throws as `run` does.
    @discardableResult
    public static func runFile(_ path: String, arguments: [String] = []) throws -> String {
        try launch([path] + arguments)
    }

    private static func launch(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailure(message: "python3 exited \(process.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }

    public struct PythonFailure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}
