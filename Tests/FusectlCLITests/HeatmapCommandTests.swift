import Foundation
import NpyIO
import TestSupport
import Testing

/// `fusectl heatmap` on plain maps: P comes from --tokens-per-frame or --frames, and a missing one is
/// said, not silently assumed.
@Suite struct HeatmapCommandTests {
    /// Plain maps (B 1, N 1, H 1, T·P 6) for T = 3 frames of P = 2 tokens.
    private func writeMaps(_ folder: TemporaryFolder) throws -> String {
        let path = folder.path("maps.npy")
        try NpyFile.write(NpyArray(float32: [0.1, 0.1, 0.3, 0.2, 0.2, 0.1], shape: [1, 1, 1, 6]), to: path)
        return path
    }

    private func png(_ folder: TemporaryFolder, _ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: folder.path(name)))
    }

    @Test func plainMapsWithoutPAreDrawnPerTokenWithANote() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let maps = try writeMaps(folder)
        let outcome = try Fusectl.run(["heatmap", maps, "--out", folder.path("tokens.png")])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr == "fusectl heatmap: note: plain maps do not record tokens per frame; drawing each of the 6 tokens as a frame (give --tokens-per-frame P or --frames T if frames have several tokens)\n")
        let explicit = try Fusectl.run(["heatmap", maps, "--out", folder.path("p1.png"), "--tokens-per-frame", "1"])
        #expect(explicit.status == 0 && explicit.stderr.isEmpty, "\(explicit.stderr)")
        #expect(try png(folder, "tokens.png") == png(folder, "p1.png"))
    }

    @Test func framesGiveTokensPerFrame() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let maps = try writeMaps(folder)
        let byFrames = try Fusectl.run(["heatmap", maps, "--out", folder.path("frames.png"), "--frames", "3"])
        let byP = try Fusectl.run(["heatmap", maps, "--out", folder.path("p2.png"), "--tokens-per-frame", "2"])
        #expect(byFrames.status == 0 && byFrames.stderr.isEmpty, "\(byFrames.stderr)")
        #expect(byP.status == 0 && byP.stderr.isEmpty, "\(byP.stderr)")
        #expect(try png(folder, "frames.png") == png(folder, "p2.png"))
        #expect(try png(folder, "frames.png") != Fusectl.run(["heatmap", maps, "--out", "-"]).stdout)

        let notDividing = try Fusectl.run(["heatmap", maps, "--out", folder.path("bad.png"), "--frames", "4"])
        #expect(notDividing.status == 1)
        #expect(notDividing.stderr == "fusectl heatmap: error: \(maps): the token axis has 6 tokens, not a multiple of --frames 4\n")
        let contradicting = try Fusectl.run(["heatmap", maps, "--out", folder.path("bad.png"), "--frames", "3", "--tokens-per-frame", "3"])
        #expect(contradicting.status == 1)
        #expect(contradicting.stderr == "fusectl heatmap: error: \(maps): --frames 3 and --tokens-per-frame 3 make 9 tokens, but the token axis has 6\n")
        #expect(!FileManager.default.fileExists(atPath: folder.path("bad.png")))
    }

    /// The archive of 'fuse --out r.npz --attention r.npz' is drawn from its 'attention' member.
    @Test func anNpzOutputIsDrawnFromItsAttentionMember() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let maps = try writeMaps(folder)
        var archive = NpzWriter()
        archive.add("fused", NpyArray(float32: [1, 2], shape: [1, 1, 2]))
        archive.add("attention", try NpyFile.read(path: maps))
        try archive.write(to: folder.path("r.npz"))
        let fromArchive = try Fusectl.run(["heatmap", folder.path("r.npz"), "--out", folder.path("a.png"), "--frames", "3"])
        let fromNpy = try Fusectl.run(["heatmap", maps, "--out", folder.path("b.png"), "--frames", "3"])
        #expect(fromArchive.status == 0 && fromNpy.status == 0, "\(fromArchive.stderr)")
        #expect(try png(folder, "a.png") == png(folder, "b.png"))
    }
}
