import Foundation
import TestSupport
import NpyIO
import Testing

/// `fusectl stream`: frames in, vectors out, bit-identical to `fuse` on the same prefix.
@Suite struct StreamCommandTests {
    private func frame(_ step: Int, episode: Int) -> NpyArray {
        NpyArray(float32: (0..<5).map { Float((($0 + 1) * (step + 3) + episode * 7) % 9) / 9 - 0.4 }, shape: [5])
    }

    /// Runs `stream` on the workspace's first instruction, feeding `arrays` back to back.
    private func stream(_ w: TinyWorkspace, _ arrays: [NpyArray], extra: [String] = []) throws -> CommandOutcome {
        let text = try NpyFile.read(path: w.folder.path("text.npy"))
        let first = try text.float32Elements().prefix(2 * 6)
        try w.save("instruction.npy", Array(first), [2, 6])
        var input = Data()
        for array in arrays { input.append(contentsOf: NpyFile.encode(array)) }
        return try Fusectl.run(["stream", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("instruction.npy")] + extra,
                               stdin: input)
    }

    /// Splits back-to-back .npy arrays.
    private func arrays(in data: Data) throws -> [NpyArray] {
        let pipe = Pipe()
        try pipe.fileHandleForWriting.write(contentsOf: data)
        try pipe.fileHandleForWriting.close()
        let reader = NpyStreamReader(fileDescriptor: pipe.fileHandleForReading.fileDescriptor, origin: "stdout")
        var result: [NpyArray] = []
        while let array = try reader.next() { result.append(array) }
        return result
    }

    /// `fuse` in plain mode on frames `frames` of one episode, via files, with plan A for every sample
    /// (`--plan x-formed`: the plan a stream session runs, hence the same bits).
    private func fusePrefix(_ w: TinyWorkspace, _ frames: [NpyArray], extra: [String] = []) throws -> [Float] {
        try fusePrefixWithAttention(w, frames, extra: extra).output
    }

    /// `fuse --plan x-formed --attention` in plain mode on `frames`: the fused vector and the (1, N, H, T) maps.
    private func fusePrefixWithAttention(_ w: TinyWorkspace, _ frames: [NpyArray], extra: [String] = []) throws -> (output: [Float], attention: NpyArray) {
        let text = try NpyFile.read(path: w.folder.path("instruction.npy"))
        try w.save("one_text.npy", try text.float32Elements(), [1, 2, 6])
        try w.save("prefix.npy", try frames.flatMap { try $0.float32Elements() }, [1, frames.count, 5])
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("one_text.npy"),
                                       "--images", w.folder.path("prefix.npy"), "--out", w.folder.path("prefix_out.npy"),
                                       "--plan", "x-formed", "--attention", w.folder.path("prefix_attention.npy")] + extra)
        try #require(outcome.status == 0, "\(outcome.stderr)")
        return (try NpyFile.read(path: w.folder.path("prefix_out.npy")).float32Elements(),
                try NpyFile.read(path: w.folder.path("prefix_attention.npy")))
    }

    @Test func episodesMatchFuseOnEveryPrefixBitForBit() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let first = (0..<4).map { frame($0, episode: 0) }
        let second = (0..<3).map { frame($0, episode: 1) }
        let outcome = try stream(w, first + [NpyArray(string: "reset")] + second)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        var vectors = try arrays(in: outcome.stdout)
        // The reset is acknowledged in its place, between the episodes.
        #expect(vectors.count == 8)
        #expect(try vectors.count > 4 && vectors[4].stringScalar() == "ok: reset")
        if vectors.count > 4 { vectors.remove(at: 4) }
        for (index, vector) in vectors.enumerated() {
            #expect(vector.shape == [8])
            let episode = index < 4 ? Array(first.prefix(index + 1)) : Array(second.prefix(index - 3))
            #expect(try vector.float32Elements() == fusePrefix(w, episode), "step \(index)")
        }
    }

    @Test func windowKeepsTheLastFrames() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let frames = (0..<5).map { frame($0, episode: 2) }
        let outcome = try stream(w, frames, extra: ["--window", "2"])
        #expect(outcome.status == 0 && outcome.stderr.isEmpty, "status \(outcome.status): \(outcome.stderr)")
        let vectors = try arrays(in: outcome.stdout)
        try #require(vectors.count == 5)
        for step in 0..<5 {  // each step's vector is fuse's on the last (at most) 2 frames
            #expect(try vectors[step].float32Elements() == fusePrefix(w, Array(frames[max(0, step - 1)...step])), "step \(step)")
        }
    }

    /// Each step's vector is followed by its (N, H, t) maps, the same bits `fuse --attention` gives for
    /// the prefix (its (1, N, H, t) maps).
    @Test func attentionFollowsEachVector() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let frames = (0..<3).map { frame($0, episode: 0) }
        let outcome = try stream(w, frames, extra: ["--attention"])
        #expect(outcome.status == 0 && outcome.stderr.isEmpty, "status \(outcome.status): \(outcome.stderr)")
        let arrays = try arrays(in: outcome.stdout)
        try #require(arrays.map(\.shape) == [[8], [2, 2, 1], [8], [2, 2, 2], [8], [2, 2, 3]])
        for step in 0..<3 {
            let expected = try fusePrefixWithAttention(w, Array(frames[0...step]))
            #expect(expected.attention.shape == [1, 2, 2, step + 1])
            #expect(try arrays[2 * step].float32Elements() == expected.output, "step \(step) vector")
            #expect(try arrays[2 * step + 1].float32Elements() == expected.attention.float32Elements(), "step \(step) maps")
            let rows = try arrays[2 * step + 1].float32Elements().chunked(step + 1)
            for row in rows { #expect(abs(row.reduce(0, +) - 1) < 1e-6, "step \(step): a head's weights sum to \(row.reduce(0, +))") }
        }
    }

    /// --text-mask (L,) picks the instruction's last real token, as `fuse --text-mask` (B, L) does.
    @Test func textMaskPicksTheLastRealToken() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let frames = (0..<3).map { frame($0, episode: 3) }
        try w.save("mask.npy", [1, 0], [2])  // token 1 is padding: token 0 is the one pooled
        try w.save("batch_mask.npy", [1, 0], [1, 2])
        let masked = try stream(w, frames, extra: ["--text-mask", w.folder.path("mask.npy")])
        #expect(masked.status == 0 && masked.stderr.isEmpty, "status \(masked.status): \(masked.stderr)")
        let vectors = try arrays(in: masked.stdout)
        try #require(vectors.count == 3)
        let unmasked = try arrays(in: stream(w, frames).stdout)
        for step in 0..<3 {
            #expect(try vectors[step].float32Elements()
                    == fusePrefix(w, Array(frames[0...step]), extra: ["--text-mask", w.folder.path("batch_mask.npy")]), "step \(step)")
            #expect(try vectors[step].float32Elements() != unmasked[step].float32Elements(), "the mask changed nothing at step \(step)")
        }
    }

    /// Past 64 frames (one attention chunk of 64 tokens) the session's cached query and first-block keys
    /// still give fuse's bits: steps around the chunk boundary and the last one are compared.
    @Test func cachedQueryPathPastOneChunk() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let frames = (0..<70).map { frame($0, episode: 4) }
        let outcome = try stream(w, frames)
        #expect(outcome.status == 0 && outcome.stderr.isEmpty, "status \(outcome.status): \(outcome.stderr)")
        let vectors = try arrays(in: outcome.stdout)
        try #require(vectors.count == 70)
        for step in [0, 62, 63, 64, 65, 69] {
            #expect(try vectors[step].float32Elements() == fusePrefix(w, Array(frames[0...step])), "step \(step)")
        }
    }

    @Test func malformedInputMidStreamIsAnError() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        _ = try stream(w, [])  // writes instruction.npy
        let garbage = try Fusectl.run(["stream", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("instruction.npy")],
                                      stdin: Data(NpyFile.encode(frame(0, episode: 0))) + Data("garbage".utf8))
        #expect(garbage.status == 1)
        #expect(garbage.stderr.hasPrefix("fusectl stream: error: <stdin>"))
    }

    /// The instruction's own errors name --text's file (InputCheckTests.streamTakesOneInstruction); its mask's, --text-mask's.
    @Test func aBadMaskNamesItsFile() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try w.save("mask.npy", [1, 0, 1], [3])
        try w.save("one.npy", (0..<12).map { Float($0) / 12 }, [2, 6])
        let mask = try Fusectl.run(["stream", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("one.npy"),
                                    "--text-mask", w.folder.path("mask.npy")], stdin: Data())
        #expect(mask.status == 1)
        #expect(mask.stderr.hasPrefix("fusectl stream: error: text_mask (\(w.folder.path("mask.npy"))): "), "\(mask.stderr)")
    }

    @Test func emptyInputEndsCleanly() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let outcome = try stream(w, [])
        #expect(outcome.status == 0 && outcome.stdout.isEmpty && outcome.stderr.isEmpty)
    }

    @Test func closedStdoutEndsQuietlyWithAnError() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        _ = try stream(w, [])  // writes instruction.npy
        // Enough steps that the answers (≈ 160 bytes each) overflow a 64 KiB pipe buffer: the stream
        // must write after `head` has gone, whatever the scheduling, so EPIPE is certain. The frames
        // come from a file, so that this process never writes into a pipe whose reader has gone.
        var input = Data()
        for step in 0..<2000 { input.append(contentsOf: NpyFile.encode(frame(step, episode: 0))) }
        try input.write(to: w.folder.url.appendingPathComponent("frames.bin"))
        let script = "'\(Fusectl.binaryURL.path)' stream --weights '\(w.folder.path("w.npz"))' --text '\(w.folder.path("instruction.npy"))' < '\(w.folder.path("frames.bin"))' | head -c 10 > /dev/null; echo \"${PIPESTATUS[0]}\""
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let status = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(status.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "stream status: \(status)")
        #expect(errors.contains("<stdout>"), "stderr: \(errors)")
        #expect(!errors.contains("Fatal") && !errors.contains("Segmentation"))
    }

    /// Not under a sanitizer: the example loads the sanitized build's libfusectl-c.so into an
    /// uninstrumented python3, which cannot resolve the sanitizer's runtime symbols.
    @Test(.enabled(if: !sanitizedBuild, "the example's python3 cannot load a sanitizer-instrumented libfusectl-c.so"))
    func agentLoopExampleMatchesFuse() throws {
        try PythonNumpy.require()  // scripts/agent_loop_example.py needs it
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let script = fixturesURL().deletingLastPathComponent().appendingPathComponent("scripts/agent_loop_example.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--fusectl", Fusectl.binaryURL.path, "--weights", w.folder.path("w.npz"),
                             "--text", w.folder.path("text.npy"), "--steps", "5", "--check"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("checked 10 steps against fusectl fuse: 0 differ"), "\(text)")
    }
}

/// The protocol's in-band answers and a batch of agents (`--agents`): errors and acknowledgements
/// as 0-d strings on stdout, a session that survives a bad frame, E agents stepping together.
extension StreamCommandTests {
    /// Agent e's frame at `step` (5 floats), distinct per agent and step.
    private func agentFrame(_ step: Int, agent: Int) -> [Float] {
        (0..<5).map { Float((($0 + 2) * (step + 1) + agent * 5) % 11) / 11 - 0.45 }
    }

    /// One input array of E agents' frames, (E, 5).
    private func agentsStep(_ step: Int, agents: Int = 3) -> NpyArray {
        NpyArray(float32: (0..<agents).flatMap { agentFrame(step, agent: $0) }, shape: [agents, 5])
    }

    /// Runs `stream --agents 3` on all three instructions of the workspace's text.npy, (3, 2, 6).
    private func streamAgents(_ w: TinyWorkspace, _ arrays: [NpyArray], extra: [String] = []) throws -> CommandOutcome {
        var input = Data()
        for array in arrays { input.append(contentsOf: NpyFile.encode(array)) }
        return try Fusectl.run(["stream", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"),
                                "--agents", "3"] + extra, stdin: input)
    }

    /// `fuse --plan x-formed` on `frames` (each 5 floats) under `instruction` (2 × 6 floats): one vector.
    private func fuseFrames(_ w: TinyWorkspace, instruction: [Float], frames: [[Float]]) throws -> [Float] {
        try w.save("agent_text.npy", instruction, [1, 2, 6])
        try w.save("agent_frames.npy", frames.flatMap { $0 }, [1, frames.count, 5])
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("agent_text.npy"),
                                       "--images", w.folder.path("agent_frames.npy"), "--out", w.folder.path("agent_out.npy"),
                                       "--plan", "x-formed"])
        try #require(outcome.status == 0, "\(outcome.stderr)")
        return try NpyFile.read(path: w.folder.path("agent_out.npy")).float32Elements()
    }

    @Test func badFramesAreAnsweredInBandAndTheSessionSurvives() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        var nan = try frame(1, episode: 0).float32Elements()
        nan[2] = .nan
        let inputs = [
            frame(0, episode: 0),
            NpyArray(float32: [1, 2, 3], shape: [3]),
            NpyArray(float32: nan, shape: [5]),
            NpyArray(int64: [1, 2, 3, 4, 5], shape: [5]),
            NpyArray(bool: [true, false, true, false, true], shape: [5]),
            NpyArray(string: "rewind"),
            frame(1, episode: 0),
        ]
        let outcome = try stream(w, inputs)
        #expect(outcome.status == 0 && outcome.stderr.isEmpty, "status \(outcome.status): \(outcome.stderr)")
        let answers = try arrays(in: outcome.stdout)
        try #require(answers.count == 7)
        let errors = try answers[1...5].map { try $0.stringScalar() }
        #expect(errors == [
            "error: frame: step 1: expected shape (5,) or (P, 5), found (3,)",
            "error: frame: step 1: non-finite value nan at [2]",
            "error: frame: expected float16, float32 or float64 values, found int64 (5,)",
            "error: frame: expected float16, float32 or float64 values, found bool (5,)",
            "error: <stdin>: unknown command \"rewind\" (expected \"reset\", \"reset I\", \"text\" or \"text I\")",
        ])
        // The history survived: the last vector is fuse's on the two good frames.
        #expect(answers[6].dtype == .float32)
        #expect(try answers[6].float32Elements() == fusePrefix(w, [frame(0, episode: 0), frame(1, episode: 0)]))
    }

    @Test func aNewInstructionInBandStartsAnEpisodeAndIsAcknowledged() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let text = try NpyFile.read(path: w.folder.path("text.npy")).float32Elements()
        let other = Array(text[12..<24])
        let outcome = try stream(w, [frame(0, episode: 0), NpyArray(string: "text"), NpyArray(float32: other, shape: [2, 6]),
                                     frame(1, episode: 0), NpyArray(string: "text"), NpyArray(int32: [1], shape: [1]),
                                     frame(2, episode: 0)])
        #expect(outcome.status == 0 && outcome.stderr.isEmpty, "status \(outcome.status): \(outcome.stderr)")
        let answers = try arrays(in: outcome.stdout)
        try #require(answers.count == 5)
        #expect(try answers[1].stringScalar() == "ok: text")
        #expect(try answers[2].float32Elements() == fuseFrames(w, instruction: other, frames: [try frame(1, episode: 0).float32Elements()]))
        #expect(try answers[3].stringScalar() == "error: text: expected floating-point latents (float16, float32 or float64), found int32 (1,)")
        #expect(try answers[4].float32Elements()
                == fuseFrames(w, instruction: other, frames: [try frame(1, episode: 0).float32Elements(), try frame(2, episode: 0).float32Elements()]))
    }

    /// Three agents step together; each row equals `fuse --plan x-formed` on that agent's own frames
    /// (so its own stream), whatever --threads; resets and new instructions per agent are acknowledged.
    @Test func agentsStepTogetherBitForBitWithTheirOwnSessions() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let text = try NpyFile.read(path: w.folder.path("text.npy")).float32Elements()
        let instruction = { (e: Int) in Array(text[(e * 12)..<((e + 1) * 12)]) }
        let newText = instruction(0)
        let inputs = [agentsStep(0), agentsStep(1), NpyArray(string: "reset 1"), agentsStep(2),
                      NpyArray(string: "text 2"), NpyArray(float32: newText, shape: [2, 6]), agentsStep(3),
                      NpyArray(float32: [0, 1], shape: [2]), NpyArray(string: "reset 3"), agentsStep(4)]
        let outcome = try streamAgents(w, inputs, extra: ["--threads", "2"])
        #expect(outcome.status == 0 && outcome.stderr.isEmpty, "status \(outcome.status): \(outcome.stderr)")
        let answers = try arrays(in: outcome.stdout)
        try #require(answers.count == 9)  // "text 2" and its instruction get one answer
        #expect(try [2, 4, 6, 7].map { try answers[$0].stringScalar() } == [
            "ok: reset 1", "ok: text 2",
            "error: frames: expected shape (3, 5) or (3, P, 5) (one frame per agent), found (2,)",
            "error: <stdin>: command \"reset 3\": agents are 0…2",
        ])
        // Per agent, the frames of its current episode at each answered step, and its instruction.
        let vectorAnswers = [(0, 0), (1, 1), (3, 2), (5, 3), (8, 4)]  // (answer index, step)
        for (answer, step) in vectorAnswers {
            #expect(answers[answer].shape == [3, 8])
            let rows = try answers[answer].float32Elements().chunked(8)
            for e in 0..<3 {
                let first = e == 1 && step >= 2 ? 2 : (e == 2 && step >= 3 ? 3 : 0)
                let frames = (first...step).map { agentFrame($0, agent: e) }
                let expected = try fuseFrames(w, instruction: e == 2 && step >= 3 ? newText : instruction(e), frames: frames)
                #expect(rows[e] == expected, "agent \(e), step \(step)")
            }
        }
        let oneThread = try streamAgents(w, inputs, extra: ["--threads", "1"])
        #expect(oneThread.stdout == outcome.stdout)
    }

    /// --text-mask (E, L) with --agents: each agent pools its own last real token, and --window keeps
    /// each agent's last N frames, as `fuse --text-mask` on that agent's kept frames.
    @Test func agentsTakeAMaskAndAWindow() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let text = try NpyFile.read(path: w.folder.path("text.npy")).float32Elements()
        try w.save("agents_mask.npy", [1, 0, 1, 1, 1, 0], [3, 2])
        let outcome = try streamAgents(w, (0..<4).map { agentsStep($0) },
                                       extra: ["--text-mask", w.folder.path("agents_mask.npy"), "--window", "2"])
        #expect(outcome.status == 0 && outcome.stderr.isEmpty, "status \(outcome.status): \(outcome.stderr)")
        let answers = try arrays(in: outcome.stdout)
        try #require(answers.count == 4)
        let rows = try answers[3].float32Elements().chunked(8)
        for e in 0..<3 {
            // The mask's last real token of agent e (0, 1, 0): fuse sees it as a one-token instruction.
            let token = [0, 1, 0][e]
            let pooled = Array(text[(e * 12 + token * 6)..<(e * 12 + token * 6 + 6)])
            try w.save("agent_text.npy", pooled, [1, 6])
            try w.save("agent_frames.npy", (2...3).flatMap { agentFrame($0, agent: e) }, [1, 2, 5])
            let fused = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("agent_text.npy"),
                                         "--images", w.folder.path("agent_frames.npy"), "--out", w.folder.path("agent_out.npy"),
                                         "--plan", "x-formed"])
            try #require(fused.status == 0, "\(fused.stderr)")
            #expect(rows[e] == (try NpyFile.read(path: w.folder.path("agent_out.npy")).float32Elements()), "agent \(e)")
        }
    }

    @Test func agentsNeedOneInstructionEachAndNoAttention() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let wrong = try Fusectl.run(["stream", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"),
                                     "--agents", "2"], stdin: Data())
        #expect(wrong.status == 1)
        #expect(wrong.stderr == "fusectl stream: error: text (\(w.folder.path("text.npy"))): --agents 2 needs one instruction per agent, (2, L, txt_latent_dim) or (2, txt_latent_dim); found (3, 2, 6)\n")
        let maps = try Fusectl.run(["stream", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"),
                                    "--agents", "3", "--attention"], stdin: Data())
        #expect(maps.status == 64)
        #expect(maps.stderr.contains("--attention applies to one agent; leave out --agents."), "\(maps.stderr)")
    }
}

private extension Array {
    /// Consecutive slices of `size` elements.
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
