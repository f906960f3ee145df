import Foundation
import NpyIO
import TestSupport
import Testing

/// Inputs of the wrong kind are named with what was found: integer latents, lengths that are not
/// (B,) integers, archives where one array was expected, a batch of instructions for `stream`,
/// headers numpy would refuse.
@Suite struct InputCheckTests {
    private func expectFailure(_ outcome: CommandOutcome, _ message: String, in w: TinyWorkspace,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcome.status == 1, "status \(outcome.status): \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.stderr == "fusectl fuse: error: \(message)\n", sourceLocation: sourceLocation)
        #expect(!w.outputExists, "a failed run left out.npy behind", sourceLocation: sourceLocation)
    }

    @Test func latentsMustBeFloatingPoint() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try NpyFile.write(NpyArray(int64: [Int64](repeating: 1, count: 3 * 4 * 5), shape: [3, 4, 5]), to: w.folder.path("ints.npy"))
        expectFailure(try w.fuse(["text": "text.npy", "images": "ints.npy"]),
                      "images (\(w.folder.path("ints.npy"))): expected floating-point latents (float16, float32 or float64), found int64 (3, 4, 5)",
                      in: w)
    }

    @Test func lengthsMustBeIntegersOfShapeB() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try NpyFile.write(NpyArray(int64: [2, 2, 1], shape: [1, 3]), to: w.folder.path("row.npy"))
        expectFailure(try w.fuse(["text": "text.npy", "images": "images.npy", "image-lengths": "row.npy"]),
                      "image_lengths (\(w.folder.path("row.npy"))): expected integers of shape (B,), found int64 (1, 3)", in: w)
        let bools = try NpyFile.read(bytes: rawNpy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", data: [1, 1, 0]),
                                     origin: "bools")
        try NpyFile.write(bools, to: w.folder.path("bools.npy"))
        expectFailure(try w.fuse(["text": "text.npy", "images": "images.npy", "text-lengths": "bools.npy"]),
                      "text_lengths (\(w.folder.path("bools.npy"))): expected integers of shape (B,), found bool (3,)", in: w)
    }

    @Test func aSingleMemberNpzIsReadAsItsArray() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        var one = NpzWriter()
        one.add("arr_0", try NpyFile.read(path: w.folder.path("images.npy")))
        try one.write(to: w.folder.path("one.npz"))
        let plain = try w.fuse(["text": "text.npy", "images": "images.npy"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let expected = try NpyFile.read(path: w.folder.path("out.npy")).float32Elements()
        let fromArchive = try w.fuse(["text": "text.npy", "images": "one.npz"])
        #expect(fromArchive.status == 0, "\(fromArchive.stderr)")
        #expect(try NpyFile.read(path: w.folder.path("out.npy")).float32Elements() == expected)

        try FileManager.default.removeItem(atPath: w.folder.path("out.npy"))
        var two = NpzWriter()
        two.add("text", try NpyFile.read(path: w.folder.path("text.npy")))
        two.add("images", try NpyFile.read(path: w.folder.path("images.npy")))
        try two.write(to: w.folder.path("two.npz"))
        expectFailure(try w.fuse(["text": "two.npz", "images": "images.npy"]),
                      "\(w.folder.path("two.npz")): is a .npz archive of 2 members (text, images) where one array (a .npy, or a .npz of one member) was expected; a bundle of a batch's arrays goes to --batch",
                      in: w)
    }

    @Test func streamTakesOneInstruction() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let frame = Data(NpyFile.encode(NpyArray(float32: [0.1, 0.2, 0.3, 0.4, 0.5], shape: [5])))
        let batch = try Fusectl.run(["stream", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy")],
                                    stdin: frame)
        #expect(batch.status == 1)
        #expect(batch.stderr == "fusectl stream: error: text (\(w.folder.path("text.npy"))): a session takes one instruction, (L, txt_latent_dim) or (txt_latent_dim,); found 3 instructions, shape (3, 2, 6)\n")
        #expect(batch.stdout.isEmpty)
        // A batch of one is that instruction.
        try w.save("one.npy", (0..<12).map { Float($0) / 12 }, [1, 2, 6])
        try w.save("two.npy", (0..<12).map { Float($0) / 12 }, [2, 6])
        let fromBatch = try Fusectl.run(["stream", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("one.npy")], stdin: frame)
        let plain = try Fusectl.run(["stream", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("two.npy")], stdin: frame)
        #expect(fromBatch.status == 0 && plain.status == 0, "\(fromBatch.stderr) \(plain.stderr)")
        #expect(fromBatch.stdout == plain.stdout && !plain.stdout.isEmpty)
    }

    @Test func headersWithBytesKeysAreMalformed() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let bytes = rawNpy("{b'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", data: [0, 0, 0, 0])
        try Data(bytes).write(to: URL(fileURLWithPath: folder.path("b.npy")))
        let outcome = try Fusectl.run(["inspect", folder.path("b.npy")])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "fusectl inspect: error: \(folder.path("b.npy")) at byte 10: malformed header: expected str keys, found the key b'descr'\n")
    }

    /// A .npy image with a hand-written header text.
    private func rawNpy(_ header: String, data: [UInt8]) -> [UInt8] {
        let text = Array(header.utf8)
        return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text + data
    }
}
