import Foundation
import Testing
@testable import Fusion

/// Times the engine on the standard workloads of docs/model.md W1–W5 with the default configuration and random
/// standard-normal inputs: packing, then the median of 5 forward passes, with achieved GFLOP/s of
/// plan A (FLOPs from the cost model). Off by default; run in release with
/// `FUSION_TIMING=1 swift test -c release -Xswiftc -enable-testing --filter EngineTimingTests`
/// (FUSION_THREADS=n to pin the thread count, FUSION_PLAN=projector-absorbed for plan B′).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FUSION_TIMING"] != nil), .serialized)
struct EngineTimingTests {
    struct Workload: CustomTestStringConvertible, Sendable {
        let name: String
        let batch: Int
        let textTokens: Int
        let frames: Int
        let tokensPerFrame: Int
        let perStep: Bool
        let ragged: Bool
        var testDescription: String { name }
    }

    static let workloads = [
        Workload(name: "W1 step", batch: 1, textTokens: 16, frames: 64, tokensPerFrame: 1, perStep: false, ragged: false),
        Workload(name: "W2 batch", batch: 256, textTokens: 32, frames: 128, tokensPerFrame: 1, perStep: false, ragged: false),
        Workload(name: "W3 long", batch: 4, textTokens: 32, frames: 1024, tokensPerFrame: 4, perStep: false, ragged: false),
        Workload(name: "W4 steps", batch: 8, textTokens: 32, frames: 128, tokensPerFrame: 1, perStep: true, ragged: false),
        Workload(name: "W5 ragged", batch: 64, textTokens: 32, frames: 256, tokensPerFrame: 1, perStep: false, ragged: true),
    ]

    static let engine: FusionEngine = {
        let config = FusionConfig()
        let tensors = Dictionary(uniqueKeysWithValues: WeightInitializer.stateDict(config: config, seed: 1).map { ($0.key, $0.value) })
        let model = try! FusionModel(config: config, tensors: tensors)
        let threads = ProcessInfo.processInfo.environment["FUSION_THREADS"].flatMap(Int.init) ?? 0
        return FusionEngine(model: model, threads: threads)
    }()

    @Test func packing() {
        let model = Self.engine.model
        var times: [Double] = []
        for _ in 0..<5 {
            times.append(FusionEngine(model: model, threads: Self.engine.threads).packAll())
        }
        let bytes = Double(Self.engine.packedByteCount)
        let median = times.sorted()[2]
        print(String(format: "packing %.1f MB with %d threads: median %.2f ms (%.1f GB/s read+write), runs %@",
                     bytes / 1e6, Self.engine.threads, median * 1e3, 2 * bytes / median / 1e9,
                     times.map { String(format: "%.2f", $0 * 1e3) }.joined(separator: " ")))
    }

    @Test(arguments: workloads)
    func forward(_ w: Workload) throws {
        try measure(w, engine: Self.engine, label: "")
    }

    @Test func w1OnAFreshEngine() throws {
        // What a one-shot `fusectl fuse` does: a new engine (nothing packed) for one B = 1 call.
        for _ in 0..<3 {
            let engine = FusionEngine(model: Self.engine.model, threads: Self.engine.threads)
            try measure(Self.workloads[0], engine: engine, label: " (fresh engine, 1 run)", repeats: 1)
        }
    }

    /// CPU seconds of the calling thread (with one thread: the forward's compute time, however busy
    /// the machine is).
    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    @Test func w1FreshEngineBreakdown() throws {
        // Calling-thread CPU time of: packing everything; a forward after that; a fresh lazy forward.
        let model = Self.engine.model
        let threads = Self.engine.threads
        let w = Self.workloads[0]
        let config = model.config
        let inputs = try FusionInputs(
            text: ModelFactory.normal([1, w.textTokens, config.txtLatentDim], seed: 1),
            images: ModelFactory.normal([1, w.frames, config.imgLatentDim], seed: 2),
            textLengths: nil, textMask: nil, imageLengths: nil, model: model)
        for _ in 0..<3 {
            let eager = FusionEngine(model: model, threads: threads)
            var start = Self.threadCPUSeconds()
            eager.packAll()
            let pack = Self.threadCPUSeconds() - start
            start = Self.threadCPUSeconds()
            let packedRun = try eager.fuse(inputs, options: FusionOptions())
            let packedForward = Self.threadCPUSeconds() - start
            let lazy = FusionEngine(model: model, threads: threads)
            start = Self.threadCPUSeconds()
            let lazyRun = try lazy.fuse(inputs, options: FusionOptions())
            let lazyForward = Self.threadCPUSeconds() - start
            start = Self.threadCPUSeconds()
            let second = try lazy.fuse(inputs, options: FusionOptions())
            let secondForward = Self.threadCPUSeconds() - start
            print(String(
                format: "W1 breakdown (CPU ms, threads %d): packAll %.2f, forward after packAll %.2f (wall %.2f); "
                    + "fresh lazy forward %.2f (wall %.2f, packing %.2f); its second call %.2f (wall %.2f, packing %.2f)",
                threads, pack * 1e3, packedForward * 1e3, packedRun.timings.forward * 1e3, lazyForward * 1e3,
                lazyRun.timings.forward * 1e3, lazyRun.timings.pack * 1e3, secondForward * 1e3,
                second.timings.forward * 1e3, second.timings.pack * 1e3))
        }
    }

    func measure(_ w: Workload, engine: FusionEngine, label: String, repeats: Int = 5) throws {
        let config = engine.model.config
        var generator = SplitMix64(seed: 42)
        let lengths = (0..<w.batch).map { _ in w.ragged ? 1 + Int(generator.next() % UInt64(w.frames)) : w.frames }
        let textLengths = (0..<w.batch).map { _ in w.ragged ? 1 + Int(generator.next() % UInt64(w.textTokens)) : w.textTokens }
        let text = ModelFactory.normal([w.batch, w.textTokens, config.txtLatentDim], seed: 1)
        let imageShape = w.tokensPerFrame > 1
            ? [w.batch, w.frames, w.tokensPerFrame, config.imgLatentDim] : [w.batch, w.frames, config.imgLatentDim]
        let images = ModelFactory.normal(imageShape, seed: 2)
        let inputs = try FusionInputs(
            text: text, images: images, textLengths: w.ragged ? textLengths : nil, textMask: nil,
            imageLengths: w.ragged ? lengths : nil, model: engine.model)
        var options = FusionOptions(perStep: w.perStep)
        options.plan = ProcessInfo.processInfo.environment["FUSION_PLAN"].flatMap(FusionPlanChoice.init(rawValue:)) ?? .automatic
        if repeats > 1 {
            _ = try engine.fuse(inputs, options: options)
        }
        var runs: [FusionRun] = []
        var cpu: [Double] = []
        for _ in 0..<repeats {
            let before = Self.threadCPUSeconds()
            runs.append(try engine.fuse(inputs, options: options))
            cpu.append(Self.threadCPUSeconds() - before)
        }
        let sorted = runs.sorted { $0.timings.forward < $1.timings.forward }
        let median = sorted[repeats / 2]
        let estimate = median.plan.estimate(median.plan.kind)!
        let reference = median.plan.estimate(.reference)!
        print(String(
            format: "%@%@: forward median %.2f ms (packing %.2f ms, X %.2f ms, blocks %.2f ms, %d chunks), plan %@ %.2f GFLOP -> %.0f GFLOP/s; "
                + "predicted %.2f ms; reference-order FLOPs %.2f GFLOP; threads %d; calling thread CPU median %.2f ms",
            w.name, label, median.timings.forward * 1e3, median.timings.pack * 1e3, median.timings.projection * 1e3, median.timings.blocks * 1e3,
            median.timings.chunks, median.plan.kind.rawValue, estimate.flops / 1e9, estimate.flops / median.timings.forward / 1e9,
            estimate.seconds * 1e3, reference.flops / 1e9, engine.threads, cpu.sorted()[repeats / 2] * 1e3))
        if ProcessInfo.processInfo.environment["FUSION_EXPLAIN"] != nil {
            print(median.plan.explanation)
        }
        #expect(median.result.output.values.allSatisfy { $0.isFinite })
    }
}
