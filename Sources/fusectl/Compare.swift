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

            Kinds: bool, integers, floats, complex and text compare only with their own kind (int64 with \
            int32, float32 with float64); integers against floats fail as a kind mismatch. A NaN or an \
            infinity that does not match is counted and named ('2 with NaN'); an infinity mismatch makes \
            the max abs error inf. For arrays of rank 2 or more the first axis is read as samples: a failing \
            report names how many samples differ and the first few, with their count and max abs error. \
            --json prints one JSON array with an object per compared pair instead (non-finite numbers as \
            the strings "inf", "-inf", "nan").

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

    @Flag(help: "Print one JSON array (an object per compared pair: files, member, status, counts, errors, first mismatch, differing samples) instead of report lines.")
    var json = false

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
                throw CompareInputError.mixedKinds(npy: actual, npz: expected, npyFirst: false)
            }
            pairs = try Self.pairs(expected: contents.0, actual: contents.1)
        } catch {
            throw failure("compare", error, exitCode: 2)
        }
        var allClose = true
        var records: [ComparisonRecord] = []
        let (expectedName, actualName) = (expected == "-" ? "<stdin>" : expected, actual == "-" ? "<stdin>" : actual)
        for pair in pairs {
            let member = pair.label.map { ":" + $0 } ?? ""
            let label = "\(expectedName)\(member) vs \(actualName)\(member)"
            var record = ComparisonRecord(expected: expectedName, actual: actualName, member: pair.label, status: "FAIL")
            defer { records.append(record) }
            guard let expectedArray = pair.expected, let actualArray = pair.actual else {
                let side = pair.expected == nil ? expected : actual
                record.reason = "member missing in \(side == "-" ? "<stdin>" : side)"
                if !json { print("\(label): FAIL: \(record.reason!)") }
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
                record.reason = "\(incompatibility)"
                if !json { print("\(label): FAIL: \(incompatibility)") }
                allClose = false
            case .success(let comparison):
                record.fill(comparison)
                if !json {
                    print("\(label): \(Self.summary(comparison))")
                    if let samples = Self.sampleSummary(comparison) { print("  \(samples)") }
                }
                allClose = allClose && comparison.isClose
            }
        }
        if json { print(ComparisonRecord.json(records)) }
        if !allClose { throw ExitCode(1) }
    }

    /// For a failing comparison of rank ≥ 2: how many samples (first-axis indices) differ, and the first five.
    static func sampleSummary(_ c: ArrayComparison) -> String? {
        guard let total = c.sampleCount, !c.differingSamples.isEmpty else { return nil }
        let shown = c.differingSamples.prefix(5).map { sample in
            var text = "\(sample.index) (\(sample.mismatchCount) element\(sample.mismatchCount == 1 ? "" : "s")"
            if sample.nanMismatchCount > 0 { text += ", \(sample.nanMismatchCount) with NaN" }
            if sample.mismatchCount > sample.nanMismatchCount {
                text += ", max abs error " + String(format: "%.6g", sample.maxAbsoluteError)
            }
            return text + ")"
        }
        return "samples (first axis) that differ: \(c.differingSamples.count) of \(total): " + shown.joined(separator: ", ")
            + (c.differingSamples.count > 5 ? ", ..." : "")
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
            throw CompareInputError.mixedKinds(npy: "the .npy file", npz: "the .npz archive", npyFirst: true)
        }
    }

    static func summary(_ c: ArrayComparison) -> String {
        var text = c.isClose ? "OK" : "FAIL"
        text += String(format: ": max abs error %.6g, max rel error %.6g, %d of %d elements differ",
                       c.maxAbsoluteError, c.maxRelativeError, c.mismatchCount, c.count)
        let nonFinite = [(c.nanMismatchCount, "with NaN"), (c.infinityMismatchCount, "with an infinity")]
            .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
        if !nonFinite.isEmpty { text += " (" + nonFinite.joined(separator: ", ") + ")" }
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
    /// One side is a .npy file, the other a .npz archive (paths as given, "-" for standard input);
    /// `npyFirst`: the .npy is the expected (first) argument. The message names them in argument order.
    case mixedKinds(npy: String, npz: String, npyFirst: Bool = true)
    var description: String {
        switch self {
        case let .mixedKinds(npy, npz, npyFirst):
            let name = { (path: String) in path == "-" ? "<stdin>" : path }
            let (file, archive) = ("\(name(npy)), a .npy file", "\(name(npz)), a .npz archive")
            return "cannot compare " + (npyFirst ? "\(file), with \(archive)" : "\(archive), with \(file)")
        }
    }
}

/// One compared pair as `compare --json` prints it.
struct ComparisonRecord: Encodable {
    var expected: String
    var actual: String
    var member: String?
    var status: String
    /// Why the pair could not be compared element by element (shape, kind, a missing member).
    var reason: String?
    var elements: Int?
    var mismatches: Int?
    var nan_mismatches: Int?
    var infinity_mismatches: Int?
    var max_abs_error: Double?
    var max_rel_error: Double?
    var first_mismatch: [Int]?
    var first_mismatch_expected: Double?
    var first_mismatch_actual: Double?
    /// For rank ≥ 2: the first axis's extent and every index that differs.
    var samples: Int?
    var differing_samples: [Sample]?

    struct Sample: Encodable {
        var index: Int
        var mismatches: Int
        var max_abs_error: Double
        var nan_mismatches: Int
    }

    mutating func fill(_ c: ArrayComparison) {
        status = c.isClose ? "OK" : "FAIL"
        (elements, mismatches) = (c.count, c.mismatchCount)
        (nan_mismatches, infinity_mismatches) = (c.nanMismatchCount, c.infinityMismatchCount)
        (max_abs_error, max_rel_error) = (c.maxAbsoluteError, c.maxRelativeError)
        first_mismatch = c.firstMismatch
        first_mismatch_expected = c.firstMismatchValues?.expected
        first_mismatch_actual = c.firstMismatchValues?.actual
        samples = c.sampleCount
        if c.sampleCount != nil {
            differing_samples = c.differingSamples.map {
                Sample(index: $0.index, mismatches: $0.mismatchCount, max_abs_error: $0.maxAbsoluteError,
                       nan_mismatches: $0.nanMismatchCount)
            }
        }
    }

    static func json(_ records: [ComparisonRecord]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        // Every field is a string, an integer or a float with a string for its non-finite values: encoding cannot fail.
        return String(decoding: (try? encoder.encode(records)) ?? Data("[]".utf8), as: UTF8.self)
    }
}
