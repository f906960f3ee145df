import Foundation
import NpyIO
import Testing
import TestSupport
@testable import Fusion

/// Runs the engine on the benchmark's workload files (scripts/bench writes them: a directory with
/// weights.npz and W1…W5 sub-directories of text.npy, images.npy, optional text_mask.npy and
/// image_lengths.npy, and PyTorch's torch_out.npy), checks the outputs against PyTorch (≤ 1e-4)
/// and prints forward times. Off by default; run in release with
/// `FUSION_BENCH_DIR=/tmp/fusectl-bench FUSION_TIMING=1 swift test -c release -Xswiftc -enable-testing --filter EngineBenchFilesTests`.
/// With FUSION_RSS_DIR (a W2-shaped directory, e.g. B = 4096) it also fuses that batch and prints
/// the growth of the process's peak resident set (run it alone: the peak is per process).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FUSION_BENCH_DIR"] != nil), .serialized)
struct EngineBenchFilesTests {
    static let root = ProcessInfo.processInfo.environment["FUSION_BENCH_DIR"] ?? ""

    static func model() throws -> FusionModel {
        try FusionModel.load(from: NpzArchive(path: root + "/weights.npz"), prefix: nil, configJSON: nil)
    }

    static func inputs(_ directory: String, model: FusionModel) throws -> (FusionInputs, perStep: Bool) {
        func optional(_ name: String) throws -> NpyArray? {
            let path = directory + "/" + name
            return FileManager.default.fileExists(atPath: path) ? try NpyFile.read(path: path) : nil
        }
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: directory + "/manifest.json"))) as? [String: Any]
        let inputs = try FusionInputs(
            text: NpyFile.read(path: directory + "/text.npy"), images: NpyFile.read(path: directory + "/images.npy"),
            textLengths: nil, textMask: try optional("text_mask.npy"),
            imageLengths: try optional("image_lengths.npy")?.intElements(), model: model)
        return (inputs, (manifest?["per_step"] as? Bool) ?? false)
    }

    /// The peak resident set (VmHWM) in bytes.
    static func peakResident() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    @Test(arguments: ["W1", "W2", "W3", "W4", "W5"])
    func workload(_ name: String) throws {
        let directory = Self.root + "/full/" + name
        try requireAvailable(FileManager.default.fileExists(atPath: directory + "/images.npy"),
                             "\(directory)/images.npy (scripts/bench writes the workload files)")
        let model = try Self.model()
        let (inputs, perStep) = try Self.inputs(directory, model: model)
        let options = FusionOptions(perStep: perStep)
        let fresh = try FusionEngine(model: model).fuse(inputs, options: options)
        let engine = FusionEngine(model: model)
        var times: [Double] = []
        var last: FusionRun?
        for _ in 0..<6 {
            let run = try engine.fuse(inputs, options: options)
            times.append(run.timings.forward)
            last = run
        }
        let median = times.dropFirst().sorted()[2]
        let estimate = last!.plan.estimate(.xFormed)!
        var line = String(
            format: "bench %@: fresh engine %.2f ms (packing %.2f ms); warm median %.2f ms, %.0f GFLOP/s of plan A; threads %d",
            name, fresh.timings.forward * 1e3, fresh.timings.pack * 1e3, median * 1e3, estimate.flops / median / 1e9,
            engine.threads)
        let torchPath = directory + "/torch_out.npy"
        if FileManager.default.fileExists(atPath: torchPath) {
            let expected = try NpyFile.read(path: torchPath).float64Elements()
            let error = maxAbsError(last!.result.output.values, expected)
            line += String(format: "; max abs error vs PyTorch %.3g at %d", error.error, error.index)
            #expect(error.error <= 1e-4)
        } else {
            line += "; not compared with PyTorch (no torch_out.npy)"
        }
        print(line)
    }

    /// Opt-in twice over: FUSION_RSS_DIR names the batch (otherwise reported as skipped by the trait).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["FUSION_RSS_DIR"] != nil, "FUSION_RSS_DIR is not set"))
    func residentSetStaysBounded() throws {
        let directory = ProcessInfo.processInfo.environment["FUSION_RSS_DIR"]!
        try requireAvailable(FileManager.default.fileExists(atPath: directory + "/images.npy"), "\(directory)/images.npy")
        let model = try Self.model()
        let engine = FusionEngine(model: model)
        engine.packAll()
        let before = Self.peakResident()
        let (inputs, _) = try Self.inputs(directory, model: model)
        let clock = ContinuousClock()
        let start = clock.now
        let run = try engine.fuse(inputs, options: FusionOptions())
        let elapsed = seconds(clock.now - start)
        let after = Self.peakResident()
        print(String(
            format: "rss: B=%d fused in %.1f s (%d chunks); peak resident %.0f MB before, %.0f MB after (growth %.0f MB)",
            inputs.batchSize, elapsed, run.timings.chunks, Double(before) / 1e6, Double(after) / 1e6,
            Double(after - before) / 1e6))
        #expect(after < 1 << 30)
    }
}
