import Foundation
import Testing
import Fusion

/// Times the reference path on the W1 shape of docs/model.md with the default configuration. Off by default
/// (it is slow in debug builds); run with
/// `FUSION_TIMING=1 swift test -c release -Xswiftc -enable-testing --filter ReferenceTimingTests`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FUSION_TIMING"] != nil))
struct ReferenceTimingTests {
    @Test func w1StepWithDefaultConfig() throws {
        let config = FusionConfig()
        let dict = WeightInitializer.stateDict(config: config, seed: 1)
        let model = try FusionModel(config: config, tensors: Dictionary(uniqueKeysWithValues: dict.map { ($0.key, $0.value) }))
        var generator = SplitMix64(seed: 2)
        func input(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in generator.uniform(bound: 1.7) })
        }
        let inputs = try FusionInputs(
            text: input([1, 16, 768]), images: input([1, 64, 2048]), textLengths: nil, textMask: nil,
            imageLengths: nil, model: model)
        var times: [Double] = []
        for _ in 0..<3 {
            let start = Date()
            let result = try model.fuseReference(inputs, options: FusionOptions(threads: 1))
            times.append(Date().timeIntervalSince(start))
            #expect(result.output.values.allSatisfy { $0.isFinite })
        }
        print("reference W1 (B=1, L=16, T=64, default config), 1 thread: \(times.map { String(format: "%.3f s", $0) })")
    }
}
