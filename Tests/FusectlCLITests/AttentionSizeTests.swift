import Foundation
import NpyIO
import Testing

/// Per-step attention maps grow with T²: maps that cannot be held are refused before the forward
/// pass, with their size, never a death by memory.
@Suite struct AttentionSizeTests {
    @Test func perStepMapsOverTheLimitAreRefusedWithTheirSize() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let arguments = ["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"),
                         "--images", w.folder.path("images.npy"), "--out", w.folder.path("out.npy"),
                         "--attention", w.folder.path("maps.npy"), "--per-step"]
        // (3, 4, 2, 2, 4) float32 = 768 bytes; a 2 KiB limit allows 512.
        let refused = try Fusectl.run(arguments, environment: ["FUSECTL_MEMORY_LIMIT": "2048"])
        #expect(refused.status == 1)
        #expect(refused.stderr == "fusectl fuse: error: the per-step attention maps (B, T, N, H, T·P) = (3, 4, 2, 2, 4) would take 768 bytes of float32, more than a quarter of the 2.0 KiB of memory this run may use; drop the attention output, or fuse shorter histories or fewer samples at a time (per-step maps grow with T²)\n")
        #expect(!w.outputExists && !FileManager.default.fileExists(atPath: w.folder.path("maps.npy")))
        let allowed = try Fusectl.run(arguments, environment: ["FUSECTL_MEMORY_LIMIT": "4096"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(try NpyFile.read(path: w.folder.path("maps.npy")).shape == [3, 4, 2, 2, 4])
    }

    /// T = 2^20 frames: per-step maps of 16 TiB, more than any machine this runs on. The run must
    /// stop at once with the size (the images file itself is 20 MiB).
    @Test func aMillionFramesPerStepIsRefusedUpFront() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let frames = 1 << 20
        try w.save("long.npy", (0..<(frames * 5)).map { Float($0 % 9) / 9 }, [1, frames, 5])
        try w.save("one.npy", (0..<12).map { Float($0) / 12 }, [1, 2, 6])
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("one.npy"),
                                       "--images", w.folder.path("long.npy"), "--out", w.folder.path("out.npy"),
                                       "--attention", w.folder.path("maps.npy"), "--per-step"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix(
            "fusectl fuse: error: the per-step attention maps (B, T, N, H, T·P) = (1, 1048576, 2, 2, 1048576) would take 16.0 TiB of float32, more than a quarter of the "),
            "\(outcome.stderr)")
        #expect(!w.outputExists)
    }

    @Test func aManifestJobWithMapsTooLargeFailsAndTheOthersRun() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let manifest = w.folder.path("jobs.tsv")
        try Data("text.npy\timages.npy\ta.npy\t\t\t\tmaps.npy\ntext.npy\timages.npy\tb.npy\n".utf8)
            .write(to: URL(fileURLWithPath: manifest))
        let outcome = try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--manifest", manifest, "--per-step"],
                                      environment: ["FUSECTL_MEMORY_LIMIT": "2048"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix("fusectl fuse: error: \(manifest):1: the per-step attention maps (B, T, N, H, T·P) = (3, 4, 2, 2, 4) would take 768 bytes"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("1 done, 0 skipped, 1 failed of 2 jobs"))
        #expect(FileManager.default.fileExists(atPath: w.folder.path("b.npy")))
        #expect(!FileManager.default.fileExists(atPath: w.folder.path("a.npy")))
    }
}
