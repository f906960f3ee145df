import Foundation
import TestSupport
import NpyIO
import Testing

/// `fusectl fuse` end to end on every golden case, against the PyTorch reference's outputs.
@Suite struct FuseGoldenTests {
    @Test func everyShippedCaseIsFound() {
        #expect(GoldenCase.names.count == 31 && GoldenCase.names == GoldenCase.folderNames,
                "MANIFEST.json lists \(GoldenCase.names); folders with case.json: \(GoldenCase.folderNames)")
    }

    /// Every shipped case (MANIFEST.json) is loaded here, throwing: a case that cannot be read fails.
    /// No --plan: plain cases run the automatic plan (budget `GoldenPath.automatic`), per-step cases
    /// per-step mode (`GoldenPath.perStep`).
    @Test(arguments: GoldenCase.names)
    func matchesPyTorch(_ caseName: String) throws {
        let golden = try GoldenCase.load(caseName)
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var arguments = golden.fuseArguments() + ["--out", folder.path("out.npy")]
        if golden.expected.attention != nil { arguments += ["--attention", folder.path("attention.npy")] }
        let outcome = try Fusectl.run(arguments)
        try #require(outcome.status == 0, "fusectl failed on \(golden): \(outcome.stderr)")

        let path: GoldenPath = golden.per_step ? .perStep : .automatic
        let output = try compare(golden.path(golden.expected.output), folder.path("out.npy"), budget: path.outputBudget)
        print("\(golden) [fusectl fuse, \(path.rawValue)] output: max abs error \(output)")
        if let attention = golden.expected.attention {
            let error = try compare(golden.path(attention), folder.path("attention.npy"), budget: path.attentionBudget(case: golden.case))
            print("\(golden) [fusectl fuse, \(path.rawValue)] attention: max abs error \(error)")
        }
    }

    @Test func bundleGivesTheSameBitsAsSeparateFiles() throws {
        let golden = try GoldenCase.load("bundle_batch")
        try #require(golden.batch != nil)
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let separate = try Fusectl.run(golden.fuseArguments() + ["--out", folder.path("a.npy")])
        let bundled = try Fusectl.run(golden.fuseArguments(useBundle: true) + ["--out", folder.path("b.npy")])
        #expect(separate.status == 0 && bundled.status == 0, "\(separate.stderr)\(bundled.stderr)")
        #expect(try Data(contentsOf: folder.url.appendingPathComponent("a.npy"))
            == Data(contentsOf: folder.url.appendingPathComponent("b.npy")))
    }

    /// Compares two .npy files as `GoldenPath` budgets do (atol = rtol = `budget`) and returns the max
    /// abs error.
    private func compare(_ expected: String, _ actual: String, budget: Double) throws -> Double {
        let result = try ArrayComparison.compare(
            expected: NpyFile.read(path: expected), actual: NpyFile.read(path: actual),
            rtol: budget, atol: budget, equalNaN: false)
        switch result {
        case .failure(let incompatibility):
            Issue.record("\(actual): \(incompatibility)")
            return .infinity
        case .success(let comparison):
            #expect(comparison.isClose,
                    "\(comparison.mismatchCount) elements off by more than \(budget) + \(budget)·|expected|; max abs error \(comparison.maxAbsoluteError) first at \(comparison.firstMismatch ?? [])")
            return comparison.maxAbsoluteError
        }
    }
}
