import Foundation
import TestSupport
import NpyIO
import Testing

@Suite struct InspectCommandTests {
    @Test func tableListsEveryMemberWithStatistics() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var writer = NpzWriter()
        writer.add("weights", NpyArray(float32: [1, -2, .nan, 5], shape: [2, 2]))
        writer.add("config", NpyArray(string: #"{"proj_dim": 8}"#))
        try writer.write(to: folder.path("m.npz"))
        let outcome = try Fusectl.run(["inspect", folder.path("m.npz")])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = outcome.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("array"))
        let weights = lines[1].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(weights == ["\(folder.path("m.npz")):weights", "float32", "(2,", "2)", "little", "C", "16", "-2", "5", "1.33333", "1", "0"])
        #expect(lines[2].contains(":config"))
        #expect(lines[3] == #"\#(folder.path("m.npz")):config: {"proj_dim": 8}"#)
    }

    @Test func jsonIsMachineReadable() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try NpyFile.write(NpyArray(float32: [1, 2, 3], shape: [3]), to: folder.path("a.npy"))
        let outcome = try Fusectl.run(["inspect", "--json", folder.path("a.npy")])
        #expect(outcome.status == 0)
        let parsed = try JSONSerialization.jsonObject(with: outcome.stdout) as? [[String: Any]]
        let first = try #require(parsed?.first)
        #expect(first["dtype"] as? String == "float32")
        #expect(first["shape"] as? [Int] == [3])
        #expect(first["mean"] as? Double == 2)
        #expect(first["bytes"] as? Int == 12)
        #expect(first["byte_order"] as? String == "little")
    }

    @Test func bigEndianArraysSaySo() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let header = "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }"
        let bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count), 0]
            + Array(header.utf8) + [0x3F, 0x80, 0, 0]
        try Data(bytes).write(to: URL(fileURLWithPath: folder.path("b.npy")))
        let outcome = try Fusectl.run(["inspect", folder.path("b.npy")])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let row = outcome.stdoutText.split(separator: "\n")[1].split(separator: " ").map(String.init)
        #expect(row == [folder.path("b.npy"), "float32", "(1,)", "big", "C", "4", "1", "1", "1", "0", "0"])
    }

    @Test func missingFileIsAnError() throws {
        let outcome = try Fusectl.run(["inspect", "/nonexistent/x.npy"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix("fusectl inspect: error: "))
        #expect(outcome.stderr.contains("/nonexistent/x.npy"))
    }
}
