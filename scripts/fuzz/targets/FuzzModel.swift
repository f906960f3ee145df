import Fusion
import NpyIO

// The tiny model the `weights` and `inputs` targets share (scripts/fuzz/run.sh compiles it into both).

/// The fixed configuration of the fuzz model; keep in step with FUZZ_CONFIG in scripts/fuzz/make_seeds.py.
let fuzzConfigJSON = #"{"txt_latent_dim": 3, "img_latent_dim": 2, "proj_dim": 4, "n_heads": 2, "n_blocks": 1, "ffn_dim": 5, "final_norm": true}"#

/// A model of `fuzzConfigJSON` with `fusectl init`'s weights (seed 1), built once.
let fuzzModel: FusionModel = {
    do {
        let config = try FusionConfig.decode(json: fuzzConfigJSON, origin: "fuzz config")
        var arrays: [String: NpyArray] = [:]
        for (key, tensor) in WeightInitializer.stateDict(config: config, seed: 1) {
            arrays[key] = NpyArray(float32: tensor.values, shape: tensor.shape)
        }
        return try FusionModel.load(
            memberNames: Array(arrays.keys), array: { arrays[$0]! }, source: "fuzz model", prefix: nil,
            configJSON: fuzzConfigJSON)
    } catch {
        fatalError("the fuzz model does not load: \(error)")
    }
}()

/// Largest B·T·P (image tokens over the batch) and T that a fuzz forward pass runs on, so that one
/// input stays in the milliseconds (per-step mode costs O(T²) per sample).
let fuzzMaxTokens = 4096
let fuzzMaxPerStepFrames = 64

/// Runs the reference forward pass on checked inputs (plain with attention, and per-step when T is small),
/// single-threaded, and checks the shapes docs/model.md promises. Skips inputs above the size caps.
func fuzzForward(_ model: FusionModel, _ inputs: FusionInputs) {
    let config = model.config
    guard inputs.batchSize * inputs.tokens <= fuzzMaxTokens else { return }
    let b = inputs.batchSize, d = config.projDim, n = config.nBlocks, h = config.nHeads
    do {
        let plain = try model.fuseReference(inputs, options: FusionOptions(perStep: false, attention: true, threads: 1))
        precondition(plain.output.shape == [b, 1, d], "plain output shape \(plain.output.shape), expected [\(b), 1, \(d)]")
        precondition(plain.attention?.shape == [b, n, h, inputs.tokens], "plain attention shape \(String(describing: plain.attention?.shape))")
        guard inputs.frames <= fuzzMaxPerStepFrames else { return }
        let steps = try model.fuseReference(inputs, options: FusionOptions(perStep: true, attention: false, threads: 1))
        precondition(steps.output.shape == [b, inputs.frames, d], "per-step output shape \(steps.output.shape)")
        // per-step rows past image_lengths[b] are zero (docs/model.md, "Per-step mode")
        for sample in 0..<b {
            for t in inputs.imageLengths[sample]..<inputs.frames {
                let row = (sample * inputs.frames + t) * d
                precondition(steps.output.values[row..<(row + d)].allSatisfy { $0 == 0 },
                             "per-step row [\(sample), \(t)] past image_lengths is not zero")
            }
        }
        trace("forward passes ran")
    } catch {
        // reading the sources may throw (e.g. a complex dtype): an error is an answer, not a finding
        trace("forward: \(error)")
    }
}
