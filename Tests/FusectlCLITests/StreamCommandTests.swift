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
        let vectors = try arrays(in: outcome.stdout)
        #expect(vectors.count == 7)
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
        let outcome = try stream(w, [frame(0, episode: 0), NpyArray(float32: [1, 2, 3], shape: [3])])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "fusectl stream: error: frame: step 1: expected shape (5,) or (P, 5), found (3,)\n")
        #expect(try arrays(in: outcome.stdout).count == 1)
        let garbage = try Fusectl.run(["stream", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("instruction.npy")],
                                      stdin: Data(NpyFile.encode(frame(0, episode: 0))) + Data("garbage".utf8))
        #expect(garbage.status == 1)
        #expect(garbage.stderr.hasPrefix("fusectl stream: error: <stdin>"))
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

    @Test func agentLoopExampleMatchesFuse() throws {
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

private extension Array {
    /// Consecutive slices of `size` elements.
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
