import Foundation
import NpyIO
import TestSupport
import Testing

/// One sample per file (`--one-sample`), bundles with extra members (`--batch-extra`), and shape
/// errors that name both files and the option to pass, through the built binary.
@Suite struct OneSampleCommandTests {
    /// Sample `b` of the workspace's batch as per-episode files: text (2, 6), images (4, 5).
    func episodeFiles(_ w: TinyWorkspace, sample b: Int, prefix: String = "") throws {
        let text = try NpyFile.read(path: w.folder.path("text.npy")).float32Elements()
        let images = try NpyFile.read(path: w.folder.path("images.npy")).float32Elements()
        try w.save(prefix + "t\(b).npy", Array(text[(b * 12)..<((b + 1) * 12)]), [2, 6])
        try w.save(prefix + "i\(b).npy", Array(images[(b * 20)..<((b + 1) * 20)]), [4, 5])
    }

    func values(_ w: TinyWorkspace, _ name: String) throws -> NpyArray {
        try NpyFile.read(path: w.folder.path(name))
    }

    @Test func perEpisodeFilesFuseAsTheyAreWithTheBitsOfTheBatch() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        for mode in [[], ["--per-step"]] {
            let batch = try w.fuse(["text": "text.npy", "images": "images.npy"], extra: mode)
            try #require(batch.status == 0, "\(batch.stderr)")
            let whole = try values(w, "out.npy")
            let row = whole.shape.dropFirst().reduce(1, *)
            for b in 0..<3 {
                try episodeFiles(w, sample: b)
                let one = try w.fuse(["text": "t\(b).npy", "images": "i\(b).npy"], extra: ["--one-sample"] + mode)
                try #require(one.status == 0, "\(one.stderr)")
                let fused = try values(w, "out.npy")
                #expect(fused.shape == [1] + whole.shape.dropFirst())
                #expect(try fused.float32Elements() == Array(try whole.float32Elements()[(b * row)..<((b + 1) * row)]))
            }
        }
    }

    @Test func pooledTextTokensPerFrameMaskAndScalarLengths() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try w.save("pooled.npy", (0..<6).map { Float($0) / 6 }, [6])
        try w.save("pooled_batch.npy", (0..<6).map { Float($0) / 6 }, [1, 6])
        try w.save("frames.npy", (0..<(3 * 2 * 5)).map { Float($0 % 7) / 7 - 0.3 }, [3, 2, 5])
        try w.save("frames_batch.npy", (0..<(3 * 2 * 5)).map { Float($0 % 7) / 7 - 0.3 }, [1, 3, 2, 5])
        let batch = try w.fuse(["text": "pooled_batch.npy", "images": "frames_batch.npy"])
        try #require(batch.status == 0, "\(batch.stderr)")
        let expected = try values(w, "out.npy").float32Elements()
        let one = try w.fuse(["text": "pooled.npy", "images": "frames.npy"], extra: ["--one-sample"])
        try #require(one.status == 0, "\(one.stderr)")
        #expect(try values(w, "out.npy").float32Elements() == expected)

        // A (L,) mask and a scalar image length: the same as the batch of one with (1, L) and (1,).
        try episodeFiles(w, sample: 0)
        try w.save("mask.npy", [1, 0], [2])
        try w.save("mask_batch.npy", [1, 0], [1, 2])
        try NpyFile.write(NpyArray(int64: [3], shape: []), to: w.folder.path("length.npy"))
        try w.saveInts("length_batch.npy", [3])
        let t0 = try values(w, "t0.npy").float32Elements(), i0 = try values(w, "i0.npy").float32Elements()
        try w.save("t0_batch.npy", t0, [1, 2, 6])
        try w.save("i0_batch.npy", i0, [1, 4, 5])
        let masked = try w.fuse(["text": "t0_batch.npy", "images": "i0_batch.npy", "text-mask": "mask_batch.npy",
                                 "image-lengths": "length_batch.npy"])
        try #require(masked.status == 0, "\(masked.stderr)")
        let maskedExpected = try values(w, "out.npy").float32Elements()
        let maskedOne = try w.fuse(["text": "t0.npy", "images": "i0.npy", "text-mask": "mask.npy", "image-lengths": "length.npy"],
                                   extra: ["--one-sample"])
        try #require(maskedOne.status == 0, "\(maskedOne.stderr)")
        #expect(try values(w, "out.npy").float32Elements() == maskedExpected)
    }

    @Test func shapeErrorsNameBothFilesAndWhatToPass() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try episodeFiles(w, sample: 0)
        let frames = try w.fuse(["text": "text.npy", "images": "i0.npy"])
        #expect(frames.status == 1)
        #expect(frames.stderr == "fusectl fuse: error: images (\(w.folder.path("i0.npy"))): expected shape (B, T, 5) or (B, T, P, 5), found (4, 5); for a file of one episode's frames, (T, 5), with its text (\(w.folder.path("text.npy"))) as one sample, pass --one-sample\n")
        try w.save("i0_batch.npy", try values(w, "i0.npy").float32Elements(), [1, 4, 5])
        let tokens = try w.fuse(["text": "t0.npy", "images": "i0_batch.npy"])
        #expect(tokens.status == 1)
        #expect(tokens.stderr == "fusectl fuse: error: text (\(w.folder.path("t0.npy"))) holds 2 samples, (2, 6), but images (\(w.folder.path("i0_batch.npy"))) hold 1, (1, 4, 5): the first axis of both is the batch; a 2-D text is (B, txt) pooled vectors: for one instruction of 2 tokens, (L, txt), with one episode's frames, pass --one-sample\n")
        let batchAsOne = try w.fuse(["text": "text.npy", "images": "images.npy"], extra: ["--one-sample"])
        #expect(batchAsOne.status == 1)
        #expect(batchAsOne.stderr == "fusectl fuse: error: text (\(w.folder.path("text.npy"))): with --one-sample a file holds one sample: expected (L, 6) token latents or (6,) pooled, found (3, 2, 6); without --one-sample its first axis is the batch\n")
        try w.save("wide.npy", [Float](repeating: 0.5, count: 3 * 2 * 7), [3, 2, 7])
        let latent = try w.fuse(["text": "wide.npy", "images": "images.npy"])
        #expect(latent.status == 1)
        #expect(latent.stderr == "fusectl fuse: error: text (\(w.folder.path("wide.npy"))): latent size 7 differs from the weights' txt_latent_dim = 6 (shape (3, 2, 7))\n")
        try w.saveInts("lengths.npy", [9, 1, 1])
        let lengths = try w.fuse(["text": "text.npy", "images": "images.npy", "image-lengths": "lengths.npy"])
        #expect(lengths.stderr == "fusectl fuse: error: image_lengths (\(w.folder.path("lengths.npy"))): sample 0: length 9 outside 1…4 (T, frames)\n")
    }

    @Test func manifestJobsOfOneEpisodeEach() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        var lines = ""
        try FileManager.default.createDirectory(at: w.folder.url.appendingPathComponent("ep"), withIntermediateDirectories: true)
        for b in 0..<3 {
            try episodeFiles(w, sample: b, prefix: "ep/")
            lines += #"{"text": "ep/t\#(b).npy", "images": "ep/i\#(b).npy", "out": "fused/\#(b).npy"}"# + "\n"
        }
        try Data(lines.utf8).write(to: w.folder.url.appendingPathComponent("jobs.jsonl"))
        let run = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", w.folder.path("jobs.jsonl"),
                                   "--one-sample", "--quiet"])
        try #require(run.status == 0, "\(run.stderr)")
        let batch = try w.fuse(["text": "text.npy", "images": "images.npy"])
        try #require(batch.status == 0, "\(batch.stderr)")
        let whole = try values(w, "out.npy").float32Elements()
        for b in 0..<3 {
            #expect(try values(w, "fused/\(b).npy").float32Elements() == Array(whole[(b * 8)..<((b + 1) * 8)]))
        }
    }

    @Test func bundlesWithMetadataAreRefusedByDefaultAndLeftAsideWhenAsked() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        func bundle(_ name: String, extra: [String: NpyArray]) throws {
            var writer = NpzWriter()
            writer.add("text", try values(w, "text.npy"))
            writer.add("images", try values(w, "images.npy"))
            for (key, array) in extra.sorted(by: { $0.key < $1.key }) { writer.add(key, array) }
            try writer.write(to: w.folder.path(name))
        }
        try bundle("plain.npz", extra: [:])
        try bundle("meta.npz", extra: ["episode_id": NpyArray(int64: [4, 5, 6], shape: [3])])
        try bundle("typo.npz", extra: ["image_length": NpyArray(int64: [1, 1, 1], shape: [3])])
        let plain = try w.fuse(["batch": "plain.npz"])
        try #require(plain.status == 0, "\(plain.stderr)")
        let expected = try Data(contentsOf: w.folder.url.appendingPathComponent("out.npy"))

        let refused = try w.fuse(["batch": "meta.npz"])
        #expect(refused.status == 1)
        #expect(refused.stderr == "fusectl fuse: error: \(w.folder.path("meta.npz")): unknown member 'episode_id' (expected text, images, text_lengths, text_mask, image_lengths; to leave other members aside, pass --batch-extra ignore)\n")
        let ignored = try w.fuse(["batch": "meta.npz"], extra: ["--batch-extra", "ignore"])
        try #require(ignored.status == 0, "\(ignored.stderr)")
        #expect(try Data(contentsOf: w.folder.url.appendingPathComponent("out.npy")) == expected)

        let typo = try w.fuse(["batch": "typo.npz"], extra: ["--batch-extra", "ignore"])
        #expect(typo.status == 1)
        #expect(typo.stderr == "fusectl fuse: error: \(w.folder.path("typo.npz")): unknown member 'image_length' looks like a misspelt 'image_lengths' (--batch-extra ignore leaves aside only members that resemble none of text, images, text_lengths, text_mask, image_lengths)\n")
        let typoRefused = try w.fuse(["batch": "typo.npz"])
        #expect(typoRefused.stderr == "fusectl fuse: error: \(w.folder.path("typo.npz")): unknown member 'image_length' (expected text, images, text_lengths, text_mask, image_lengths; 'image_lengths' misspelt?)\n")
    }
}
