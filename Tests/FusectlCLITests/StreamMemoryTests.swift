import Foundation
import TestSupport
import NpyIO
import Testing

/// Issue 7: memory is bounded by the window — a 100,000-step episode with a 1,024-frame window keeps
/// the peak RSS of `fusectl stream` where a 3,000-step episode puts it.
@Suite struct StreamMemoryTests {
    /// Feature sizes: txt 6, img 16, d 32 (an X row is 128 bytes, so a history that kept every frame
    /// would grow by 12 MB over 100,000 steps, and a leak of 64 bytes a step would add 6 MB).
    private static let config = #"{"txt_latent_dim": 6, "img_latent_dim": 16, "proj_dim": 32, "n_heads": 2, "n_blocks": 1, "ffn_dim": 32}"#

    /// Writes `steps` frames of 16 floats back to back, as repeated `np.save(f, frame)` does.
    private func writeFrames(_ steps: Int, to path: String) throws {
        let template = NpyFile.encode(NpyArray(float32: [Float](repeating: 0, count: 16), shape: [16]))
        let header = template.prefix(template.count - 16 * 4)
        var data = Data(capacity: steps * template.count)
        for step in 0..<steps {
            data.append(contentsOf: header)
            let values = (0..<16).map { Float(($0 * 7 + step * 13) % 31) / 31 - 0.5 }
            values.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    @Test func aLongEpisodeWithAWindowKeepsPeakMemoryFlat() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try Data(Self.config.utf8).write(to: folder.url.appendingPathComponent("config.json"))
        let made = try Fusectl.run(["init", "--config", folder.path("config.json"), "--seed", "5", "--out", folder.path("w.npz")])
        try #require(made.status == 0, "\(made.stderr)")
        try NpyFile.write(NpyArray(float32: (0..<6).map { Float($0) / 6 }, shape: [6]), to: folder.path("text.npy"))

        var peaks: [Int: Int] = [:]
        for steps in [3_000, 100_000] {
            let frames = folder.path("frames-\(steps).npy")
            try writeFrames(steps, to: frames)
            let outcome = try FaultProcess.run(
                ["stream", "--weights", folder.path("w.npz"), "--text", folder.path("text.npy"), "--window", "1024"],
                folder: folder, stdinPath: frames, measureMemory: true, timeout: 300)
            try #require(outcome.exitStatus == 0 && !outcome.timedOut, "\(steps) steps: \(outcome.stderr)")
            let vector = 128 + 32 * 4  // one (32,) float32 .npy: 128-byte header, 32 floats
            #expect(outcome.stdout.count == steps * vector, "\(steps) steps: \(outcome.stdout.count) bytes out")
            peaks[steps] = outcome.peakRSSKiB
        }
        let growth = peaks[100_000]! - peaks[3_000]!
        print("fusectl stream, window 1024: peak RSS \(peaks[3_000]!) KiB after 3,000 steps, \(peaks[100_000]!) KiB after 100,000 (growth \(growth) KiB)")
        if !sanitizedBuild {
            #expect(growth < 4 * 1024, "peak RSS grew by \(growth) KiB from 3,000 to 100,000 steps")
        }
    }
}
