import Foundation
import NpyIO
import Testing

/// `fuse --per-step --window N`: training targets equal to what `stream --window N` answers an
/// acting agent, bit for bit, through the built binary.
@Suite struct WindowCommandTests {
    @Test func perStepRowsWithAWindowAreTheStreamsVectors() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let text = try NpyFile.read(path: w.folder.path("text.npy")).float32Elements()
        let images = try NpyFile.read(path: w.folder.path("images.npy")).float32Elements()
        try w.save("t.npy", Array(text[12..<24]), [2, 6])
        try w.save("i.npy", Array(images[20..<40]), [4, 5])
        for window in ["1", "2", "3"] {
            let fused = try w.fuse(["text": "t.npy", "images": "i.npy"], extra: ["--one-sample", "--per-step", "--window", window])
            try #require(fused.status == 0, "\(fused.stderr)")
            let rows = try NpyFile.read(path: w.folder.path("out.npy"))
            #expect(rows.shape == [1, 4, 8])
            var frames = Data()
            for t in 0..<4 {
                frames.append(contentsOf: NpyFile.encode(NpyArray(float32: Array(images[(20 + t * 5)..<(25 + t * 5)]), shape: [5])))
            }
            let streamed = try Fusectl.run(["stream", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("t.npy"),
                                            "--window", window], stdin: frames)
            try #require(streamed.status == 0, "\(streamed.stderr)")
            // The answers are (8,) float32 arrays back to back.
            let pipe = Pipe()
            try pipe.fileHandleForWriting.write(contentsOf: streamed.stdout)
            try pipe.fileHandleForWriting.close()
            let reader = NpyStreamReader(fileDescriptor: pipe.fileHandleForReading.fileDescriptor, origin: "stdout")
            var vectors: [Float] = []
            while let vector = try reader.next() { vectors += try vector.float32Elements() }
            #expect(vectors.count == 32)
            #expect(try rows.float32Elements() == vectors, "window \(window)")
        }
        // Without a window per-step rows see the whole prefix: window 1 differs from it.
        let whole = try w.fuse(["text": "t.npy", "images": "i.npy"], extra: ["--one-sample", "--per-step", "--plan", "x-formed"])
        try #require(whole.status == 0, "\(whole.stderr)")
        let prefixRows = try NpyFile.read(path: w.folder.path("out.npy")).float32Elements()
        _ = try w.fuse(["text": "t.npy", "images": "i.npy"], extra: ["--one-sample", "--per-step", "--window", "4"])
        #expect(try NpyFile.read(path: w.folder.path("out.npy")).float32Elements() == prefixRows)
    }

    @Test func windowUsageErrors() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let plain = try w.fuse(["text": "text.npy", "images": "images.npy"], extra: ["--window", "2"])
        #expect(plain.status == 64)
        #expect(plain.stderr.hasPrefix("Error: --window applies to per-step rows: add --per-step (row t then fuses frames t-N+1..t).\n"))
        let plan = try w.fuse(["text": "text.npy", "images": "images.npy"], extra: ["--per-step", "--window", "2", "--plan", "kv-formed"])
        #expect(plan.status == 64)
        #expect(plan.stderr.hasPrefix("Error: --window runs plan A (x-formed) on every row, as 'stream --window' does; drop --plan kv-formed.\n"))
        let zero = try w.fuse(["text": "text.npy", "images": "images.npy"], extra: ["--per-step", "--window", "0"])
        #expect(zero.status == 64)
        #expect(!w.outputExists)
    }
}
