import Foundation
import TestSupport
import NpyIO
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every option `fusectl help` advertises, driven once through the built binary, checking what it
/// claims (the signal, FIFO, manifest and golden tests cover the rest).
@Suite struct AdvertisedOptionTests {
    private func fuse(_ w: TinyWorkspace, _ extra: [String], out: String = "out.npy") throws -> CommandOutcome {
        try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"),
                         "--images", w.folder.path("images.npy"), "--out", w.folder.path(out)] + extra)
    }

    private func bytes(_ w: TinyWorkspace, _ name: String) -> Data { FaultProcess.contents(of: w.folder.path(name)) }

    /// The last stderr line of `--timings` as a JSON object.
    private func timings(_ stderr: String) throws -> [String: Any] {
        let line = try #require(stderr.split(separator: "\n").last.map(String.init), "no stderr")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
    }

    /// (width, height) from a PNG's IHDR, after checking the signature.
    private func pngSize(_ data: Data) throws -> (Int, Int) {
        let bytes = [UInt8](data)
        try #require(bytes.count > 24 && bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        func be(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be(16), be(20))
    }

    @Test func threadsDoNotChangeTheBits() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        var outputs: [Data] = []
        for threads in ["1", "2", "3", "0"] {
            let outcome = try fuse(w, ["--threads", threads, "--attention", w.folder.path("a\(threads).npy"), "--timings"],
                                   out: "o\(threads).npy")
            try #require(outcome.status == 0, "\(outcome.stderr)")
            if threads != "0" { #expect(try timings(outcome.stderr)["threads"] as? Int == Int(threads)!) }
            outputs.append(bytes(w, "o\(threads).npy") + bytes(w, "a\(threads).npy"))
        }
        #expect(outputs.allSatisfy { $0 == outputs[0] } && outputs[0].count > 256)
        #expect(try fuse(w, ["--threads", "-1"]).status == 64)
    }

    /// Each --plan runs the plan it names (--timings says which) and agrees with the reference path.
    @Test func everyPlanRunsAndAgrees() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let reference = try fuse(w, ["--plan", "reference", "--timings"], out: "reference.npy")
        try #require(reference.status == 0, "\(reference.stderr)")
        #expect(try timings(reference.stderr)["plan"] as? String == "reference")
        let expected = try NpyFile.read(path: w.folder.path("reference.npy")).float32Elements()
        for plan in ["automatic", "x-formed", "projector-absorbed"] {
            let outcome = try fuse(w, ["--plan", plan, "--timings"], out: "\(plan).npy")
            try #require(outcome.status == 0, "\(plan): \(outcome.stderr)")
            let ran = try timings(outcome.stderr)["plan"] as? String
            if plan == "automatic" {
                #expect(ran == "x-formed" || ran == "projector-absorbed", "automatic ran \(String(describing: ran))")
            } else {
                #expect(ran == plan)
            }
            assertClose(try NpyFile.read(path: w.folder.path("\(plan).npy")).float32Elements(), expected,
                        rtol: 2e-6, atol: 2e-6, "--plan \(plan) against --plan reference")
        }
        #expect(try fuse(w, ["--plan", "fastest"]).status == 64)
    }

    /// --explain lists every candidate and marks the one that ran (the plan --timings reports).
    @Test func explainNamesTheCandidatesAndTheChoice() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        for plan in ["x-formed", "projector-absorbed", "kv-formed"] {
            let outcome = try fuse(w, ["--plan", plan, "--explain", "--timings"])
            try #require(outcome.status == 0, "\(outcome.stderr)")
            let lines = outcome.stderr.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.hasPrefix("workload: B=3 T=4 P=1 plain") }, "\(outcome.stderr)")
            #expect(lines.contains { $0.hasPrefix("plan: ") }, "\(outcome.stderr)")
            let candidates = lines.filter {
                ($0.hasPrefix(" * ") || $0.hasPrefix("   ")) && $0.contains(" GFLOP, ") && $0.contains("predicted")
            }
            #expect(lines.contains { $0.hasPrefix("chosen: ") && $0.contains(" GFLOP, ") }, "\(outcome.stderr)")
            #expect(candidates.count == 4, "\(outcome.stderr)")
            for name in ["reference", "x-formed", "projector-absorbed", "kv-formed"] {
                #expect(candidates.contains { $0.dropFirst(3).hasPrefix(name + " ") }, "\(name) missing: \(outcome.stderr)")
            }
            let chosen = candidates.filter { $0.hasPrefix(" * ") }
            #expect(chosen.count == 1 && chosen.first?.dropFirst(3).hasPrefix(plan + " ") == true, "\(outcome.stderr)")
            #expect(try timings(outcome.stderr)["plan"] as? String == plan)
        }
    }

    @Test func timingsIsOneJSONLineWithEveryField() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let outcome = try fuse(w, ["--timings", "--threads", "2"])
        try #require(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)")
        let fields = try timings(outcome.stderr)
        for key in ["load_s", "pack_s", "forward_s", "write_s", "total_s"] {
            let seconds = try #require(fields[key] as? Double, "\(key) missing: \(fields)")
            #expect(seconds >= 0 && seconds < 60, "\(key) = \(seconds)")
        }
        #expect((fields["flops"] as? Int ?? 0) > 0)
        #expect(["avx512", "avx2", "scalar"].contains(fields["cpu"] as? String ?? ""), "\(fields)")
        #expect(fields["threads"] as? Int == 2)
    }

    /// --explain and --timings describe one batch; with --manifest they are usage errors, not ignored.
    @Test func explainAndTimingsWithAManifestAreUsageErrors() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try Data("text.npy\timages.npy\tm.npy\n".utf8).write(to: URL(fileURLWithPath: w.folder.path("jobs.tsv")))
        for option in ["--explain", "--timings"] {
            let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", w.folder.path("jobs.tsv"), option])
            #expect(outcome.status == 64, "\(option): \(outcome.stderr)")
            #expect(outcome.stderr.contains("--explain and --timings describe one batch"), "\(outcome.stderr)")
            #expect(!FileManager.default.fileExists(atPath: w.folder.path("m.npy")))
        }
    }

    /// --report's lines come from the output and the maps: the first 4 values of each sample and the three
    /// frames with the most attention (a frame's weight averaged over blocks and heads), as %.4g.
    @Test func reportShowsValuesAndMostAttendedFrames() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let outcome = try fuse(w, ["--report", "--attention", w.folder.path("a.npy")])
        try #require(outcome.status == 0, "\(outcome.stderr)")
        let output = try NpyFile.read(path: w.folder.path("out.npy")).float32Elements()
        let maps = try NpyFile.read(path: w.folder.path("a.npy"))
        try #require(maps.shape == [3, 2, 2, 4])
        let weights = try maps.float32Elements()
        func g(_ value: Double) -> String { String(format: "%.4g", value) }
        var expected = ["fused 3 samples -> (3, 1, 8) float32 in \(w.folder.path("out.npy"))"]
        for b in 0..<3 {
            let frames = (0..<4).map { t in (0..<4).reduce(0.0) { $0 + Double(weights[(b * 4 + $1) * 4 + t]) } / 4 }
            let top = frames.indices.sorted { frames[$0] > frames[$1] || (frames[$0] == frames[$1] && $0 < $1) }.prefix(3)
            expected.append("sample \(b): [" + output[(b * 8)..<(b * 8 + 4)].map { g(Double($0)) }.joined(separator: ", ")
                            + ", ...]; most attended frames: " + top.map { "\($0) (\(g(frames[$0])))" }.joined(separator: ", "))
        }
        #expect(outcome.stderr == expected.joined(separator: "\n") + "\n")
    }

    @Test func outDtypeWritesThatDtype() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try #require(try fuse(w, []).status == 0)
        let single = try NpyFile.read(path: w.folder.path("out.npy"))
        #expect(single.dtype == .float32)
        let values = try single.float32Elements()
        for dtype in ["float16", "float64"] {
            let outcome = try fuse(w, ["--out-dtype", dtype], out: "\(dtype).npy")
            try #require(outcome.status == 0, "\(outcome.stderr)")
            let array = try NpyFile.read(path: w.folder.path("\(dtype).npy"))
            #expect(array.shape == [3, 1, 8])
            if dtype == "float64" {
                #expect(array.dtype == .float64)
                #expect(try array.float64Elements() == values.map(Double.init))  // widening is exact
            } else {
                #expect(array.dtype == .float16)
                #expect(try array.float32Elements() == values.map { Float(Float16($0)) })  // rounded once
            }
        }
        #expect(try fuse(w, ["--out-dtype", "int8"]).status == 64)
    }

    /// init --dtype stores that dtype; --compressed deflates every member (zip method 8) and loads the
    /// same tensors; fuse gives the same result from each.
    @Test func initDtypeAndCompressed() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try #require(try fuse(w, []).status == 0)
        let plain = try NpzArchive(path: w.folder.path("w.npz"))
        let reference = try NpyFile.read(path: w.folder.path("out.npy")).float32Elements()
        for (variant, extra) in [("f64", ["--dtype", "float64"]), ("f16", ["--dtype", "float16"]), ("z", ["--compressed"])] {
            let path = w.folder.path("w-\(variant).npz")
            let made = try Fusectl.run(["init", "--config", w.folder.path("config.json"), "--seed", "3", "--out", path] + extra)
            try #require(made.status == 0, "\(made.stderr)")
            let archive = try NpzArchive(path: path)
            #expect(archive.memberNames.sorted() == plain.memberNames.sorted())
            let key = "fusor.blocks.0.attn.in_proj_weight"
            let original = try plain.array(named: key).float32Elements()
            let stored = try archive.array(named: key)
            switch variant {
            case "f64":
                #expect(stored.dtype == .float64)
                #expect(try stored.float32Elements() == original)  // float32 draws widened exactly
            case "f16":
                #expect(stored.dtype == .float16)
                #expect(try stored.float32Elements() == original.map { Float(Float16($0)) })
            default:
                #expect(stored.dtype == .float32)
                #expect(try stored.float32Elements() == original)
                // every local header's compression method is 8 (deflate)
                let raw = [UInt8](FaultProcess.contents(of: path))
                var methods: [Int] = []
                var at = 0
                while at + 30 <= raw.count, raw[at..<(at + 4)] == [0x50, 0x4B, 0x03, 0x04] {
                    methods.append(Int(raw[at + 8]) | Int(raw[at + 9]) << 8)
                    let compressed = raw[(at + 18)..<(at + 22)].reversed().reduce(0) { $0 << 8 | Int($1) }
                    let nameLength = Int(raw[at + 26]) | Int(raw[at + 27]) << 8
                    let extraLength = Int(raw[at + 28]) | Int(raw[at + 29]) << 8
                    at += 30 + nameLength + extraLength + compressed
                }
                #expect(methods.count == plain.memberNames.count && methods.allSatisfy { $0 == 8 }, "methods \(methods)")
            }
            let outcome = try Fusectl.run(["fuse", "--weights", path, "--text", w.folder.path("text.npy"),
                                           "--images", w.folder.path("images.npy"), "--out", w.folder.path("o-\(variant).npy")])
            try #require(outcome.status == 0, "\(outcome.stderr)")
            let fused = try NpyFile.read(path: w.folder.path("o-\(variant).npy")).float32Elements()
            if variant == "f16" {
                assertClose(fused, reference, rtol: 2e-2, atol: 2e-2, "float16 weights")  // weights rounded to 11 bits
                #expect(fused != reference)
            } else {
                #expect(fused == reference, "\(variant) weights must give the float32 file's bits")
            }
        }
    }

    /// FK_CPU_LEVEL forces a lower kernel path: the same bits on every path (--timings names it), in
    /// per-step mode (plan C here, automatically) and plain mode (plan B′, asked for: the automatic rule
    /// keeps these 4-token samples on plan A, which the per-step rows' X projection already covers).
    @Test(arguments: [["--per-step"], []])
    func cpuLevelsGiveTheSameBits(mode: [String]) throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        var results: [String: Data] = [:]
        let order = ["scalar", "avx2", "avx512"]
        var detected = "avx512"
        for level in ["", "avx2", "scalar"] {
            let name = "o-\(level.isEmpty ? "default" : level).npy"
            let environment = level.isEmpty ? [:] : ["FK_CPU_LEVEL": level]
            let outcome = try FaultProcess.run(
                ["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"), "--images", w.folder.path("images.npy"),
                 "--attention", w.folder.path("a-\(name)"), "--out", w.folder.path(name), "--timings"]
                    + (mode.isEmpty ? ["--plan", "projector-absorbed"] : mode),
                folder: w.folder, environment: environment)
            try #require(outcome.exitStatus == 0, "\(outcome.summary): \(outcome.stderr)")
            let ran = try timings(outcome.stderr)["cpu"] as? String ?? "?"
            #expect(try timings(outcome.stderr)["plan"] as? String == (mode.isEmpty ? "projector-absorbed" : "kv-formed"))
            if level.isEmpty {
                detected = ran
            } else {  // the level asked for, or the CPU's own when that is lower
                let expected = order[min(order.firstIndex(of: level)!, order.firstIndex(of: detected) ?? 2)]
                #expect(ran == expected, "FK_CPU_LEVEL=\(level) ran \(ran): \(outcome.stderr)")
            }
            results[level] = bytes(w, name) + bytes(w, "a-\(name)")
        }
        #expect(results["avx2"] == results[""] && results["scalar"] == results[""])
        #expect((results[""]?.count ?? 0) > 256)
    }

    /// heatmap draws the picture --attention-png draws from the same maps; --sample picks one panel;
    /// per-step maps with --block/--head give a step × frame picture.
    @Test func heatmapAndAttentionPNG() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let outcome = try fuse(w, ["--attention", w.folder.path("a.npy"), "--attention-png", w.folder.path("fuse.png")])
        try #require(outcome.status == 0, "\(outcome.stderr)")
        let direct = bytes(w, "fuse.png")
        let drawn = try Fusectl.run(["heatmap", w.folder.path("a.npy"), "--out", w.folder.path("heatmap.png")])
        try #require(drawn.status == 0, "\(drawn.stderr)")
        #expect(bytes(w, "heatmap.png") == direct)
        let all = try pngSize(direct)
        let one = try Fusectl.run(["heatmap", w.folder.path("a.npy"), "--out", "-", "--sample", "1"])
        try #require(one.status == 0, "\(one.stderr)")
        let single = try pngSize(one.stdout)
        #expect(single.0 == all.0 && single.1 < all.1, "one panel \(single), three \(all)")
        #expect(try Fusectl.run(["heatmap", w.folder.path("a.npy"), "--out", "-", "--sample", "3"]).status == 1)

        let steps = try fuse(w, ["--per-step", "--attention", w.folder.path("s.npy")], out: "s-out.npy")
        try #require(steps.status == 0, "\(steps.stderr)")
        let block = try Fusectl.run(["heatmap", w.folder.path("s.npy"), "--out", w.folder.path("b.png"), "--block", "1", "--head", "0"])
        let average = try Fusectl.run(["heatmap", w.folder.path("s.npy"), "--out", w.folder.path("avg.png")])
        #expect(block.status == 0 && average.status == 0, "\(block.stderr)\(average.stderr)")
        let blockSize = try pngSize(bytes(w, "b.png")), averageSize = try pngSize(bytes(w, "avg.png"))
        #expect(blockSize.0 > 0 && blockSize.1 > 0 && averageSize.0 > 0 && averageSize.1 > 0)
        #expect(bytes(w, "b.png") != bytes(w, "avg.png"))  // one block's head is not the average
        #expect(try Fusectl.run(["heatmap", w.folder.path("s.npy"), "--out", "-", "--block", "2", "--head", "0"]).status != 0)
    }

    /// A manifest run whose standard error is a terminal (a pseudo-terminal from `script`) redraws one
    /// progress line per job ("\r\e[K jobs k/N …, samples/s, ETA") and clears it before the summary.
    @Test func progressLineOnATerminal() throws {
        let script = executableOnPath("script")
        try requireAvailable(script != nil, "script (util-linux), to give fusectl a pseudo-terminal")
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try Data("text.npy\timages.npy\tm0.npy\ntext.npy\timages.npy\tm1.npy\n".utf8)
            .write(to: URL(fileURLWithPath: w.folder.path("jobs.tsv")))
        let command = "'\(Fusectl.binaryURL.path)' fuse --weights '\(w.folder.path("w.npz"))' --manifest '\(w.folder.path("jobs.tsv"))'"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script!)
        process.arguments = ["-qec", command, "/dev/null"]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("\r\u{1B}[Kjobs 1/2 (0 failed), 3 samples, "), "\(text.debugDescription)")
        #expect(text.contains("\r\u{1B}[Kjobs 2/2 (0 failed), 6 samples, "), "\(text.debugDescription)")
        #expect(text.contains(" samples/s, ETA "), "\(text.debugDescription)")
        #expect(text.contains("\r\u{1B}[Kfusectl fuse: 2 done, 0 skipped, 0 failed of 2 jobs ("), "\(text.debugDescription)")
        // Not a terminal: no progress line, only the summary.
        let piped = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", w.folder.path("jobs.tsv"), "--force"])
        #expect(piped.status == 0 && !piped.stderr.contains("\r") && piped.stderr.hasPrefix("fusectl fuse: 2 done"), "\(piped.stderr)")
    }
}
