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

    /// `fuse` in plain mode on frames `frames` of one episode, via files.
    private func fusePrefix(_ w: TinyWorkspace, _ frames: [NpyArray]) throws -> [Float] {
        let text = try NpyFile.read(path: w.folder.path("instruction.npy"))
        try w.save("one_text.npy", try text.float32Elements(), [1, 2, 6])
        try w.save("prefix.npy", try frames.flatMap { try $0.float32Elements() }, [1, frames.count, 5])
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("one_text.npy"),
                                       "--images", w.folder.path("prefix.npy"), "--out", w.folder.path("prefix_out.npy")])
        try #require(outcome.status == 0, "\(outcome.stderr)")
        return try NpyFile.read(path: w.folder.path("prefix_out.npy")).float32Elements()
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
        let vectors = try arrays(in: outcome.stdout)
        #expect(vectors.count == 5)
        #expect(try vectors[4].float32Elements() == fusePrefix(w, Array(frames[3...4])))
    }

    @Test func attentionFollowsEachVector() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let outcome = try stream(w, (0..<3).map { frame($0, episode: 0) }, extra: ["--attention"])
        let arrays = try arrays(in: outcome.stdout)
        #expect(arrays.map(\.shape) == [[8], [2, 2, 1], [8], [2, 2, 2], [8], [2, 2, 3]])
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
        var input = Data()
        for step in 0..<200 { input.append(contentsOf: NpyFile.encode(frame(step, episode: 0))) }
        let script = "'\(Fusectl.binaryURL.path)' stream --weights '\(w.folder.path("w.npz"))' --text '\(w.folder.path("instruction.npy"))' | head -c 10 > /dev/null; echo \"${PIPESTATUS[0]}\""
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        try? stdin.fileHandleForWriting.write(contentsOf: input)
        try? stdin.fileHandleForWriting.close()
        let status = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(status.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "stream status: \(status)")
        #expect(errors.contains("<stdout>"), "stderr: \(errors)")
        #expect(!errors.contains("Fatal") && !errors.contains("Segmentation"))
    }

    @Test func agentLoopExampleMatchesFuse() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import numpy"]
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            print("skipped: no python3 with numpy to run scripts/agent_loop_example.py")
            return
        }
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
