import ArgumentParser
import Foundation
import NpyIO

/// `fusectl compare EXPECTED ACTUAL`: the referee of golden-file tests.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that two .npy files, or every member of two .npz files, are close.",
        discussion: """
            Closeness follows numpy.allclose: |actual - expected| <= atol + rtol * |expected|. NaN equals \
            NaN only with --equal-nan; an infinity is close only to the same infinity. '--rtol 0 --atol 0' \
            means exact equality. For .npz files every member must exist on both sides.

            Each line of the report names both files (and the member): \
            'EXPECTED[:MEMBER] vs ACTUAL[:MEMBER]: OK|FAIL: ...'.

            Exit status: 0 close, 1 not close (or shapes/kinds differ, or a member is missing), 2 an input \
            could not be read.

            Example:
              fusectl compare fixtures/golden/post_gelu_basic/output.npy out.npy \\
                  --atol 1e-4
            """
    )

    @Argument(help: "The expected (reference) .npy or .npz file.")
    var expected: String

    @Argument(help: "The actual .npy or .npz file ('-' for standard input).")
    var actual: String

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-5

    @Option(help: "Absolute tolerance.")
    var atol: Double = 1e-8

    @Flag(help: "Treat NaN as equal to NaN.")
    var equalNan = false

    func validate() throws {
        guard rtol >= 0, atol >= 0, rtol.isFinite, atol.isFinite else {
            throw ValidationError("--rtol and --atol must be finite and non-negative.")
        }
        guard !(expected == "-" && actual == "-") else {
            throw ValidationError("At most one input can be '-' (standard input).")
        }
    }

    func run() throws {
        let pairs: [(label: String?, expected: NpyArray?, actual: NpyArray?)]
        do {
            let contents = (try openNumpyFile(path: expected), try openNumpyFile(path: actual))
            if case .npy = contents.0, case .npz = contents.1 {
                throw CompareInputError.mixedKinds(npy: expected, npz: actual)
            }
            if case .npz = contents.0, case .npy = contents.1 {
                throw CompareInputError.mixedKinds(npy: actual, npz: expected)
            }
            pairs = try Self.pairs(expected: contents.0, actual: contents.1)
        } catch {
            throw failure("compare", error, exitCode: 2)
        }
        var allClose = true
        let (expectedName, actualName) = (expected == "-" ? "<stdin>" : expected, actual == "-" ? "<stdin>" : actual)
        for pair in pairs {
            let member = pair.label.map { ":" + $0 } ?? ""
            let label = "\(expectedName)\(member) vs \(actualName)\(member)"
            guard let expectedArray = pair.expected, let actualArray = pair.actual else {
                let side = pair.expected == nil ? expected : actual
                print("\(label): FAIL: member missing in \(side == "-" ? "<stdin>" : side)")
                allClose = false
                continue
            }
            let outcome: Result<ArrayComparison, ArrayComparison.Incompatibility>
            do {
                outcome = try ArrayComparison.compare(
                    expected: expectedArray, actual: actualArray, rtol: rtol, atol: atol, equalNaN: equalNan)
            } catch {
                throw failure("compare", error, exitCode: 2)
            }
            switch outcome {
            case .failure(let incompatibility):
                print("\(label): FAIL: \(incompatibility)")
                allClose = false
            case .success(let comparison):
                print("\(label): \(Self.summary(comparison))")
                allClose = allClose && comparison.isClose
            }
        }
        if !allClose { throw ExitCode(1) }
    }

    /// Matches .npz members by name; a .npy pair is one unnamed pair (label nil).
    static func pairs(expected: NumpyFileContents, actual: NumpyFileContents) throws
        -> [(label: String?, expected: NpyArray?, actual: NpyArray?)]
    {
        switch (expected, actual) {
        case let (.npy(e), .npy(a)):
            return [(nil, e, a)]
        case let (.npz(e), .npz(a)):
            var names = e.memberNames
            names += a.memberNames.filter { !e.contains($0) }
            return try names.map { name in
                (name, e.contains(name) ? try e.array(named: name) : nil,
                 a.contains(name) ? try a.array(named: name) : nil)
            }
        default:
            throw CompareInputError.mixedKinds(npy: "the .npy file", npz: "the .npz archive")
        }
    }

    static func summary(_ c: ArrayComparison) -> String {
        var text = c.isClose ? "OK" : "FAIL"
        text += String(format: ": max abs error %.6g, max rel error %.6g, %d of %d elements differ",
                       c.maxAbsoluteError, c.maxRelativeError, c.mismatchCount, c.count)
        if let index = c.firstMismatch {
            text += "; first at [\(index.map(String.init).joined(separator: ", "))]"
            if let values = c.firstMismatchValues {
                text += String(format: " (expected %.9g, actual %.9g)", values.expected, values.actual)
            }
        }
        return text
    }
}

enum CompareInputError: Error, CustomStringConvertible {
    /// One side is a .npy file, the other a .npz archive (paths as given, "-" for standard input).
    case mixedKinds(npy: String, npz: String)
    var description: String {
        switch self {
        case let .mixedKinds(npy, npz):
            let name = { (path: String) in path == "-" ? "<stdin>" : path }
            return "cannot compare \(name(npy)), a .npy file, with \(name(npz)), a .npz archive"
        }
    }
}
