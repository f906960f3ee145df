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
        // One sample's maps, (1, 4, 2, 2, 4) float32, are 256 bytes; a 1000-byte limit allows 250.
        let refused = try Fusectl.run(arguments, environment: ["FUSECTL_MEMORY_LIMIT": "1000"])
        #expect(refused.status == 1)
        #expect(refused.stderr == "fusectl fuse: error: the per-step attention maps (B, T, N, H, T·P) = (1, 4, 2, 2, 4) would take 256 bytes of float32, more than a quarter of the 1000 bytes of memory this run may use; drop the attention output, or fuse shorter histories (per-step maps grow with T²)\n")
        #expect(!w.outputExists && !FileManager.default.fileExists(atPath: w.folder.path("maps.npy")))
        // Maps that must be held whole (for the picture) are refused as a batch: 768 bytes > 512.
        let picture = try Fusectl.run(arguments + ["--attention-png", w.folder.path("maps.png")],
                                      environment: ["FUSECTL_MEMORY_LIMIT": "2048"])
        #expect(picture.status == 1)
        #expect(picture.stderr == "fusectl fuse: error: the per-step attention maps (B, T, N, H, T·P) = (3, 4, 2, 2, 4) would take 768 bytes of float32, more than a quarter of the 2.0 KiB of memory this run may use; drop the attention output, or fuse shorter histories or fewer samples at a time (per-step maps grow with T²)\n")
        #expect(!w.outputExists && !FileManager.default.fileExists(atPath: w.folder.path("maps.png")))
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
                                      environment: ["FUSECTL_MEMORY_LIMIT": "1000"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix("fusectl fuse: error: \(manifest):1: the per-step attention maps (B, T, N, H, T·P) = (1, 4, 2, 2, 4) would take 256 bytes"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("1 done, 0 skipped, 1 failed of 2 jobs"))
        #expect(FileManager.default.fileExists(atPath: w.folder.path("b.npy")))
        #expect(!FileManager.default.fileExists(atPath: w.folder.path("a.npy")))
    }

    /// Maps over the group budget (an eighth of the limit) are written group by group: the files are
    /// the bytes of an all-at-once run, to a file or to standard output, and in a manifest.
    @Test func streamedMapsAreTheBytesOfAnAllAtOnceRun() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try w.saveInts("lengths.npy", [4, 1, 3])
        try w.save("mask.npy", [1, 0, 0, 1, 1, 1], [3, 2])
        func run(_ out: String, _ maps: String, limit: String?) throws -> CommandOutcome {
            try Fusectl.run(["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"),
                             "--images", w.folder.path("images.npy"), "--image-lengths", w.folder.path("lengths.npy"),
                             "--text-mask", w.folder.path("mask.npy"), "--per-step",
                             "--out", out == "-" ? "-" : w.folder.path(out), "--attention", w.folder.path(maps)],
                            environment: limit.map { ["FUSECTL_MEMORY_LIMIT": $0] } ?? [:])
        }
        func bytes(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: w.folder.path(name))) }
        #expect(try run("whole.npy", "whole-maps.npy", limit: nil).status == 0)
        // 4096 bytes: groups of 512 bytes of maps, two samples (256 bytes each).
        let streamed = try run("streamed.npy", "streamed-maps.npy", limit: "4096")
        #expect(streamed.status == 0, "\(streamed.stderr)")
        #expect(try bytes("streamed.npy") == bytes("whole.npy"))
        #expect(try bytes("streamed-maps.npy") == bytes("whole-maps.npy"))
        let piped = try run("-", "piped-maps.npy", limit: "4096")
        let whole = try bytes("whole.npy")
        #expect(piped.status == 0 && piped.stdout == whole, "\(piped.stderr)")
        #expect(try bytes("piped-maps.npy") == bytes("whole-maps.npy"))
        #expect(temporaryFiles(in: w.folder.path("")).isEmpty)
    }

    /// The memory bound itself: 96 samples of T = 256 make 96 MiB of per-step maps; with a 128 MiB
    /// limit they are fused 16 at a time and the peak RSS stays far below the maps' size.
    @Test func streamedMapsKeepThePeakRSSBelowTheirSize() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let (batch, frames) = (96, 256)
        try w.save("many-text.npy", (0..<(batch * 2 * 6)).map { Float($0 % 11) / 11 }, [batch, 2, 6])
        try w.save("many-images.npy", (0..<(batch * frames * 5)).map { Float($0 % 13) / 13 - 0.5 }, [batch, frames, 5])
        let outcome = try FaultProcess.run(
            ["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("many-text.npy"),
             "--images", w.folder.path("many-images.npy"), "--per-step", "--out", w.folder.path("out.npy"),
             "--attention", w.folder.path("maps.npy")],
            folder: w.folder, environment: ["FUSECTL_MEMORY_LIMIT": String(128 << 20)], measureMemory: true, timeout: 300)
        #expect(outcome.exitStatus == 0, "\(outcome.summary): \(outcome.stderr)")
        let maps = try NpyFile.read(path: w.folder.path("maps.npy"))
        #expect(maps.shape == [batch, frames, 2, 2, frames])
        print("96 MiB of per-step maps streamed: peak RSS \(outcome.peakRSSKiB) KiB")
        if !sanitizedBuild {
            #expect(outcome.peakRSSKiB < 64 << 10, "peak RSS \(outcome.peakRSSKiB) KiB")
        }
    }
}
