import Foundation
import NpyIO
import Testing

/// Bad inputs to `fusectl fuse`: a clear message, a non-zero exit and no output file.
@Suite struct FuseErrorTests {
    private func expectFailure(_ outcome: CommandOutcome, _ message: String, in workspace: TinyWorkspace,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcome.status == 1, "status \(outcome.status): \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.stderr == "fusectl fuse: error: \(message)\n", sourceLocation: sourceLocation)
        #expect(!workspace.outputExists, "a failed run left out.npy behind", sourceLocation: sourceLocation)
    }

    @Test func validInputsSucceed() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let outcome = try w.fuse(["text": "text.npy", "images": "images.npy"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(try NpyFile.read(path: w.folder.path("out.npy")).shape == [3, 1, 8])
    }

    @Test func batchSizesMustAgree() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try w.save("text2.npy", [Float](repeating: 0.5, count: 2 * 2 * 6), [2, 2, 6])
        expectFailure(try w.fuse(["text": "text2.npy", "images": "images.npy"]),
                      "text (\(w.folder.path("text2.npy"))) holds 2 samples, (2, 2, 6), but images (\(w.folder.path("images.npy"))) hold 3, (3, 4, 5): the first axis of both is the batch", in: w)
    }

    @Test func latentSizeMustMatchTheWeights() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try w.save("wide.npy", [Float](repeating: 0.5, count: 3 * 2 * 7), [3, 2, 7])
        expectFailure(try w.fuse(["text": "wide.npy", "images": "images.npy"]),
                      "text (\(w.folder.path("wide.npy"))): latent size 7 differs from the weights' txt_latent_dim = 6 (shape (3, 2, 7))", in: w)
    }

    @Test(arguments: [(Int64(0), "length 0"), (Int64(5), "length 5")])
    func imageLengthsMustBeInRange(_ bad: Int64, _ text: String) throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try w.saveInts("lengths.npy", [4, bad, 1])
        expectFailure(try w.fuse(["text": "text.npy", "images": "images.npy", "image-lengths": "lengths.npy"]),
                      "image_lengths (\(w.folder.path("lengths.npy"))): sample 1: \(text) outside 1…4 (T, frames)", in: w)
    }

    @Test func lengthsMustBeIntegers() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try w.save("lengths.npy", [4, 2, 1], [3])
        expectFailure(try w.fuse(["text": "text.npy", "images": "images.npy", "image-lengths": "lengths.npy"]),
                      "image_lengths (\(w.folder.path("lengths.npy"))): expected integers of shape (B,), found float32 (3,)", in: w)
    }

    @Test func maskNeedsARealToken() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try w.save("mask.npy", [1, 1, 0, 0, 1, 0], [3, 2])
        expectFailure(try w.fuse(["text": "text.npy", "images": "images.npy", "text-mask": "mask.npy"]),
                      "text_mask (\(w.folder.path("mask.npy"))): sample 1: no real token (every entry of the mask row is 0)", in: w)
    }

    @Test func nonFiniteInputsNameTheSample() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        var values = (0..<(3 * 4 * 5)).map { Float($0 % 5) / 5 }
        values[2 * 20 + 7] = .infinity
        try w.save("bad.npy", values, [3, 4, 5])
        expectFailure(try w.fuse(["text": "text.npy", "images": "bad.npy"]),
                      "images (\(w.folder.path("bad.npy"))): sample 2: non-finite value inf at [2, 1, 2]", in: w)
        let allowed = try w.fuse(["text": "text.npy", "images": "bad.npy"], extra: ["--allow-nonfinite"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test func aFailureKeepsNoStaleOutput() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        #expect(try w.fuse(["text": "text.npy", "images": "images.npy"]).status == 0)
        // A later failing run must not leave a file that looks like its result; the old one stays intact.
        let before = try Data(contentsOf: w.folder.url.appendingPathComponent("out.npy"))
        let failed = try w.fuse(["text": "text.npy", "images": "missing.npy"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("missing.npy"))
        #expect(try Data(contentsOf: w.folder.url.appendingPathComponent("out.npy")) == before)
    }

    @Test func usageErrorsExit64() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let both = try w.fuse(["text": "-", "images": "-"])
        #expect(both.status == 64)
        #expect(both.stderr.hasPrefix("Error: Only one input can be '-' (standard input); got --text, --images."))
        let neither = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--out", w.folder.path("out.npy")])
        #expect(neither.status == 64)
        #expect(neither.stderr.hasPrefix("Error: Missing inputs: give --text and --images, --batch, or --manifest."))
    }

    @Test func pipesInAndOut() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let text = try Data(contentsOf: w.folder.url.appendingPathComponent("text.npy"))
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--text", "-",
                                       "--images", w.folder.path("images.npy"), "--out", "-"], stdin: text)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let piped = try NpyFile.read(bytes: [UInt8](outcome.stdout), origin: "stdout")
        #expect(piped.shape == [3, 1, 8])
        #expect(try w.fuse(["text": "text.npy", "images": "images.npy"]).status == 0)
        let fromFiles = try NpyFile.read(path: w.folder.path("out.npy"))
        #expect(try piped.float32Elements() == fromFiles.float32Elements())
    }
}
