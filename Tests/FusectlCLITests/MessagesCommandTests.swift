import Foundation
import TestSupport
import NpyIO
import Testing

/// The messages, reports, inspect and compare answers a new user meets, through the built binary.
@Suite struct MessagesCommandTests {
    private func g(_ value: Double) -> String { String(format: "%.4g", value) }

    @Test func reportNeverListsPaddingFramesAndLabelsPerStepRows() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try w.saveInts("lengths.npy", [1, 4, 2])
        let outcome = try w.fuse(["text": "text.npy", "images": "images.npy", "image-lengths": "lengths.npy"],
                                 extra: ["--report", "--attention", w.folder.path("a.npy")])
        try #require(outcome.status == 0, "\(outcome.stderr)")
        let output = try NpyFile.read(path: w.folder.path("out.npy")).float32Elements()
        let weights = try NpyFile.read(path: w.folder.path("a.npy")).float32Elements()
        var expected = ["fused 3 samples -> (3, 1, 8) float32 in \(w.folder.path("out.npy"))"]
        for (b, length) in [1, 4, 2].enumerated() {
            let frames = (0..<length).map { t in (0..<4).reduce(0.0) { $0 + Double(weights[(b * 4 + $1) * 4 + t]) } / 4 }
            let top = frames.indices.sorted { frames[$0] > frames[$1] || (frames[$0] == frames[$1] && $0 < $1) }.prefix(3)
            expected.append("sample \(b): [" + output[(b * 8)..<(b * 8 + 4)].map { g(Double($0)) }.joined(separator: ", ")
                            + ", ...]; most attended frames: " + top.map { "\($0) (\(g(frames[$0])))" }.joined(separator: ", "))
        }
        #expect(outcome.stderr == expected.joined(separator: "\n") + "\n")
        #expect(expected[1].hasSuffix("; most attended frames: 0 (1)"))

        let steps = try w.fuse(["text": "text.npy", "images": "images.npy", "image-lengths": "lengths.npy"],
                               extra: ["--report", "--per-step"])
        try #require(steps.status == 0, "\(steps.stderr)")
        let rows = try NpyFile.read(path: w.folder.path("out.npy")).float32Elements()
        var expectedSteps = ["fused 3 samples -> (3, 4, 8) float32 in \(w.folder.path("out.npy"))"]
        for (b, length) in [1, 4, 2].enumerated() {
            let start = (b * 4 + length - 1) * 8
            expectedSteps.append("sample \(b), step \(length - 1) (last of \(length) valid): ["
                                 + rows[start..<(start + 4)].map { g(Double($0)) }.joined(separator: ", ") + ", ...]")
        }
        #expect(steps.stderr == expectedSteps.joined(separator: "\n") + "\n")
    }

    @Test func manifestMistakesGetClearMessages() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let folder = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", w.folder.path(".")])
        #expect(folder.status == 1)
        #expect(folder.stderr == "fusectl fuse: error: \(w.folder.path(".")): is a folder, not a file\n")
        try Data("{}\n".utf8).write(to: w.folder.url.appendingPathComponent("j.jsonl"))
        let mixed = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", w.folder.path("j.jsonl"),
                                     "--text", w.folder.path("text.npy")])
        #expect(mixed.status == 64)
        #expect(mixed.stderr.hasPrefix("Error: --manifest takes each job's inputs from its line; drop --text (or run that batch without --manifest).\n"))
        let missing = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", w.folder.path("none.tsv")])
        #expect(missing.stderr == "fusectl fuse: error: \(w.folder.path("none.tsv")): cannot be opened: No such file or directory\n")
    }

    @Test func theNoConfigErrorNamesConfig() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let archive = try NpzArchive(path: w.folder.path("w.npz"))
        var writer = NpzWriter()
        for name in archive.memberNames where name != "config" { writer.add(name, try archive.array(named: name)) }
        try writer.write(to: w.folder.path("bare.npz"))
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("bare.npz"), "--text", w.folder.path("text.npy"),
                                       "--images", w.folder.path("images.npy"), "--out", w.folder.path("out.npy")])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "fusectl fuse: error: \(w.folder.path("bare.npz")): no configuration: the weights file has no \"config\" entry and no configuration JSON was given; give one with --config FILE (a JSON object, docs/model.md \"Configuration\")\n")
        let given = try Fusectl.run(["fuse", "--weights", w.folder.path("bare.npz"), "--config", w.folder.path("config.json"),
                                     "--text", w.folder.path("text.npy"), "--images", w.folder.path("images.npy"),
                                     "--out", w.folder.path("out.npy")])
        #expect(given.status == 0, "\(given.stderr)")
    }

    /// `--out -` on a terminal would print binary: refused (run under a pseudo-terminal).
    @Test func standardOutputThatIsATerminalIsRefused() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let spawn = "import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))"
        let outcome = ClusterScripts.run(["python3", "-c", spawn, Fusectl.binaryURL.path, "fuse", "--weights", w.folder.path("w.npz"),
                                          "--text", w.folder.path("text.npy"), "--images", w.folder.path("images.npy"), "--out", "-"])
        #expect(outcome.status == 64, "\(outcome.output)")
        #expect(outcome.output.hasPrefix("Error: --out - writes binary data to standard output, which is a terminal; redirect it (> fused.npy) or pipe it (| python3 ...), or give a file.\r\n"), "\(outcome.output)")
        // Into a pipe it still works.
        let piped = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"),
                                     "--images", w.folder.path("images.npy"), "--out", "-"])
        #expect(piped.status == 0 && piped.stdout.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]))
    }

    @Test func inspectShowsNumpyDtypesAndJsonFailsWhenItCannotEncode() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var writer = NpzWriter()
        writer.add("config", NpyArray(string: String(repeating: "x", count: 218)))
        writer.add("big", NpyArray(float64: [1.7e308, 1.7e308], shape: [2]))
        try writer.write(to: folder.path("m.npz"))
        let table = try Fusectl.run(["inspect", folder.path("m.npz")])
        #expect(table.status == 0, "\(table.stderr)")
        let configRow = table.stdoutText.split(separator: "\n").first { $0.hasPrefix("\(folder.path("m.npz")):config ") }
        #expect(configRow?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == "<U218")
        let json = try Fusectl.run(["inspect", "--json", folder.path("m.npz")])
        #expect(json.status == 1)
        #expect(json.stdout.isEmpty)
        #expect(json.stderr == "fusectl inspect: error: \(folder.path("m.npz")):big: cannot be written as JSON: its mean is inf (the sum of its values overflows float64), which JSON cannot hold; the table (without --json) shows it\n")
    }

    @Test func compareCountsNonFiniteMismatchesKindsSamplesAndJson() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let (e, a) = (folder.path("e.npy"), folder.path("a.npy"))
        try NpyFile.write(NpyArray(float32: [1, 2, .infinity, 4, 5, 6], shape: [3, 2]), to: e)
        try NpyFile.write(NpyArray(float32: [1, .nan, -.infinity, 4, 5, 6.5], shape: [3, 2]), to: a)
        let text = try Fusectl.run(["compare", e, a])
        #expect(text.status == 1)
        #expect(text.stdoutText == """
            \(e) vs \(a): FAIL: max abs error inf, max rel error inf, 3 of 6 elements differ (1 with NaN, 1 with an infinity); first at [0, 1] (expected 2, actual nan)
              samples (first axis) that differ: 3 of 3: 0 (1 element, 1 with NaN), 1 (1 element, max abs error inf), 2 (1 element, max abs error 0.5)

            """)
        // inf against -inf alone is a mismatch, never "max abs error 0".
        try NpyFile.write(NpyArray(float32: [.infinity], shape: [1]), to: folder.path("p.npy"))
        try NpyFile.write(NpyArray(float32: [-.infinity], shape: [1]), to: folder.path("m.npy"))
        let infinities = try Fusectl.run(["compare", folder.path("p.npy"), folder.path("m.npy")])
        #expect(infinities.status == 1)
        #expect(infinities.stdoutText == "\(folder.path("p.npy")) vs \(folder.path("m.npy")): FAIL: max abs error inf, max rel error inf, 1 of 1 elements differ (1 with an infinity); first at [0] (expected inf, actual -inf)\n")

        let json = try Fusectl.run(["compare", "--json", e, a])
        #expect(json.status == 1)
        let records = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]])
        #expect(records.count == 1)
        let record = records[0]
        #expect(record["status"] as? String == "FAIL")
        #expect(record["expected"] as? String == e && record["actual"] as? String == a)
        #expect(record["mismatches"] as? Int == 3 && record["nan_mismatches"] as? Int == 1 && record["infinity_mismatches"] as? Int == 1)
        #expect(record["max_abs_error"] as? String == "inf")
        #expect(record["samples"] as? Int == 3)
        let samples = try #require(record["differing_samples"] as? [[String: Any]])
        #expect(samples.map { $0["index"] as? Int } == [0, 1, 2])
        #expect(samples[2]["max_abs_error"] as? Double == 0.5)

        // Integers against floats: a kind mismatch, as the help says.
        try NpyFile.write(NpyArray(int64: [1, 2], shape: [2]), to: folder.path("i.npy"))
        try NpyFile.write(NpyArray(float32: [1, 2], shape: [2]), to: folder.path("f.npy"))
        let kinds = try Fusectl.run(["compare", folder.path("i.npy"), folder.path("f.npy")])
        #expect(kinds.status == 1)
        #expect(kinds.stdoutText == "\(folder.path("i.npy")) vs \(folder.path("f.npy")): FAIL: dtype kind mismatch: expected int64, found float32\n")
    }
}

/// `--explain` and the automatic plan agree: on the issue's model (img 1024, txt 512, d 256, 4 heads,
/// 3 blocks) and small batches, the chosen plan's predicted time is never above a rejected candidate's.
@Suite struct ExplainAgreementTests {
    @Test(arguments: [(1, 32), (1, 64), (8, 64), (2, 16)])
    func theChosenPlanIsNeverPredictedSlower(batch: Int, frames: Int) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Data(#"{"img_latent_dim": 1024, "txt_latent_dim": 512, "proj_dim": 256, "n_heads": 4, "n_blocks": 3, "ffn_dim": 1024}"#.utf8)
            .write(to: folder.url.appendingPathComponent("c.json"))
        let made = try Fusectl.run(["init", "--config", folder.path("c.json"), "--out", folder.path("w.npz")])
        try #require(made.status == 0, "\(made.stderr)")
        try NpyFile.write(NpyArray(float32: [Float](repeating: 0.1, count: batch * 4 * 512), shape: [batch, 4, 512]), to: folder.path("t.npy"))
        try NpyFile.write(NpyArray(float32: (0..<(batch * frames * 1024)).map { Float($0 % 13) / 13 }, shape: [batch, frames, 1024]),
                          to: folder.path("i.npy"))
        for mode in [[], ["--per-step"]] {
            let outcome = try Fusectl.run(["fuse", "--weights", folder.path("w.npz"), "--text", folder.path("t.npy"), "--images",
                                           folder.path("i.npy"), "--out", folder.path("o.npy"), "--explain"] + mode)
            try #require(outcome.status == 0, "\(outcome.stderr)")
            func milliseconds(_ line: Substring) -> Double? {
                guard let range = line.range(of: "predicted ") else { return nil }
                return Double(line[range.upperBound...].split(separator: " ").first ?? "")
            }
            let lines = outcome.stderr.split(separator: "\n")
            let chosen = try #require(lines.first { $0.hasPrefix("chosen: ") }.flatMap(milliseconds), "\(outcome.stderr)")
            let candidates = lines.filter { $0.hasPrefix(" * ") || $0.hasPrefix("   ") }.compactMap(milliseconds)
            #expect(candidates.count == 4, "\(outcome.stderr)")
            for candidate in candidates { #expect(chosen <= candidate, "\(outcome.stderr)") }
            #expect(lines.contains { $0.hasPrefix("predicted times: each sample's cost as the automatic rule counts it") })
        }
    }
}
