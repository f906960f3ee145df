import Foundation
import TestSupport
import NpyIO
import Testing

/// `fusectl compare` as a user runs it: exit codes 0/1/2 and the report lines.
@Suite struct CompareCommandTests {
    private func write(_ values: [Float], shape: [Int], to path: String) throws {
        try NpyFile.write(NpyArray(float32: values, shape: shape), to: path)
    }

    @Test func closeArraysExitZero() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try write([1, 2, 3, 4], shape: [2, 2], to: folder.path("e.npy"))
        try write([1, 2, 3, 4.00001], shape: [2, 2], to: folder.path("a.npy"))
        let outcome = try Fusectl.run(["compare", folder.path("e.npy"), folder.path("a.npy"), "--atol", "1e-4"])
        #expect(outcome.status == 0)
        #expect(outcome.stdoutText.hasPrefix("\(folder.path("e.npy")) vs \(folder.path("a.npy")): OK: max abs error"))
    }

    @Test func exactComparisonFindsTheFirstMismatch() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try write([1, 2, 3, 4], shape: [2, 2], to: folder.path("e.npy"))
        try write([1, 2, 3, 4.00001], shape: [2, 2], to: folder.path("a.npy"))
        let outcome = try Fusectl.run(["compare", folder.path("e.npy"), folder.path("a.npy"), "--rtol", "0", "--atol", "0"])
        #expect(outcome.status == 1)
        #expect(outcome.stdoutText.contains("FAIL"))
        #expect(outcome.stdoutText.contains("1 of 4 elements differ; first at [1, 1]"))
    }

    @Test func nanEqualsNanOnlyWhenAsked() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try write([.nan, 1], shape: [2], to: folder.path("e.npy"))
        try write([.nan, 1], shape: [2], to: folder.path("a.npy"))
        #expect(try Fusectl.run(["compare", folder.path("e.npy"), folder.path("a.npy")]).status == 1)
        #expect(try Fusectl.run(["compare", folder.path("e.npy"), folder.path("a.npy"), "--equal-nan"]).status == 0)
    }

    @Test func shapeMismatchFails() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try write([1, 2, 3, 4], shape: [2, 2], to: folder.path("e.npy"))
        try write([1, 2, 3, 4], shape: [4], to: folder.path("a.npy"))
        let outcome = try Fusectl.run(["compare", folder.path("e.npy"), folder.path("a.npy")])
        #expect(outcome.status == 1)
        #expect(outcome.stdoutText == "\(folder.path("e.npy")) vs \(folder.path("a.npy")): FAIL: shape mismatch: expected (2, 2), found (4,)\n")
    }

    @Test func missingNpzMemberFails() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var left = NpzWriter(), right = NpzWriter()
        left.add("x", NpyArray(float32: [1], shape: [1]))
        left.add("y", NpyArray(float32: [2], shape: [1]))
        right.add("x", NpyArray(float32: [1], shape: [1]))
        try left.write(to: folder.path("e.npz"))
        try right.write(to: folder.path("a.npz"))
        let outcome = try Fusectl.run(["compare", folder.path("e.npz"), folder.path("a.npz")])
        #expect(outcome.status == 1)
        #expect(outcome.stdoutText == """
            \(folder.path("e.npz")):x vs \(folder.path("a.npz")):x: OK: max abs error 0, max rel error 0, 0 of 1 elements differ
            \(folder.path("e.npz")):y vs \(folder.path("a.npz")):y: FAIL: member missing in \(folder.path("a.npz"))

            """)
    }

    @Test func aNpyAndANpzAreNamedWhenTheyCannotBeCompared() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try write([1], shape: [1], to: folder.path("e.npy"))
        var archive = NpzWriter()
        archive.add("x", NpyArray(float32: [1], shape: [1]))
        try archive.write(to: folder.path("a.npz"))
        let outcome = try Fusectl.run(["compare", folder.path("a.npz"), folder.path("e.npy")])
        #expect(outcome.status == 2)
        // Named in the order given: expected first.
        #expect(outcome.stderr == "fusectl compare: error: cannot compare \(folder.path("a.npz")), a .npz archive, with \(folder.path("e.npy")), a .npy file\n")
        let forward = try Fusectl.run(["compare", folder.path("e.npy"), folder.path("a.npz")])
        #expect(forward.stderr == "fusectl compare: error: cannot compare \(folder.path("e.npy")), a .npy file, with \(folder.path("a.npz")), a .npz archive\n")
    }

    @Test func unreadableInputExitsTwo() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try write([1], shape: [1], to: folder.path("e.npy"))
        try Data("not numpy".utf8).write(to: folder.url.appendingPathComponent("bad.npy"))
        let outcome = try Fusectl.run(["compare", folder.path("e.npy"), folder.path("bad.npy")])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.hasPrefix("fusectl compare: error: "))
        #expect(outcome.stderr.contains("bad.npy"))
    }

    @Test func actualFromStandardInput() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try write([1, 2], shape: [2], to: folder.path("e.npy"))
        let bytes = NpyFile.encode(NpyArray(float32: [1, 2], shape: [2]))
        let outcome = try Fusectl.run(["compare", folder.path("e.npy"), "-"], stdin: Data(bytes))
        #expect(outcome.status == 0, "\(outcome.stderr)")
    }
}
