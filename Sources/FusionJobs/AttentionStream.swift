import Fusion
import NpyIO

/// Fusion whose attention maps go to their .npy file group by group, so that memory holds one
/// group's maps, never the whole batch's.
///
/// Maps are sample-major ((B, N, H, T·P), or (B, T, N, H, T·P) per step), so the maps of
/// consecutive samples are consecutive bytes of the file: the batch is fused in groups of
/// consecutive samples whose maps take at most `groupBudget` bytes, each group's maps are appended
/// to the file after the full-shape header, and the groups' outputs are joined. By the determinism
/// contract (a sample's bits do not depend on the batch it is fused in) the files are the bytes an
/// all-at-once run writes. One sample's maps must still fit: beyond a quarter of the memory limit
/// they are refused (`AttentionMapSize`).
public enum AttentionStream {
    /// The most bytes of maps one group may hold: 256 MiB, or an eighth of the memory a run may use
    /// when that is less.
    public static var groupBudget: Int { min(256 << 20, AttentionMapSize.memoryLimit / 8) }

    /// What a streamed run did, for `--timings` and `--explain`.
    public struct Summary {
        /// The first group's plan (every group gets the same kind: the plan does not depend on B).
        public var plan: FusionPlan
        /// Summed over the groups; `forward` includes writing each group's maps.
        public var timings: FusionTimings
        /// Groups the batch was fused in.
        public var groups: Int
    }

    /// Fuses `inputs` and writes both outputs of `outputs`, streaming the maps, when that applies:
    /// maps are asked for, go to a .npy file or standard output (not into a .npz), and take more than
    /// `budget` bytes. Returns nil (having done nothing) otherwise.
    ///
    /// The maps are written first, atomically; when the output then fails, the maps file is removed.
    /// - Throws: `JobError.inputs` when one sample's maps exceed a quarter of the memory limit; what
    ///   reading the inputs, fusing or writing throws.
    public static func fuse(_ inputs: FusionInputs, engine: FusionEngine, options: FusionOptions,
                            outputs: OutputFiles, provenance: Provenance? = nil,
                            budget: Int = AttentionStream.groupBudget) throws -> Summary? {
        let config = engine.model.config
        guard options.attention, let mapsPath = outputs.attention, !OutputPath.isArchive(mapsPath),
              let total = AttentionMapSize.bytes(for: inputs, config: config, options: options), total > budget
        else { return nil }
        try outputs.checkDistinct()
        let first = try subset(inputs, samples: 0..<1, model: engine.model)
        try AttentionMapSize.check(first, config: config, options: options)
        let perSample = AttentionMapSize.bytes(for: first, config: config, options: options)!
        let groupSize = max(1, budget / perSample)
        let steps = options.perStep ? inputs.frames : 1
        let d = config.projDim
        var mapsShape = [inputs.batchSize, config.nBlocks, config.nHeads, inputs.tokens]
        if options.perStep { mapsShape.insert(inputs.frames, at: 1) }

        var fused = [Float]()
        fused.reserveCapacity(inputs.batchSize * steps * d)
        var summary: Summary?
        if outputs.createFolders { try outputs.makeFolders() }
        try OutputFile.write(to: mapsPath, beforeRename: outputs.recordWriter(mapsPath, provenance)) { file in
            try file.write(NpyFile.header(dtype: .float32, shape: mapsShape))
            for start in stride(from: 0, to: inputs.batchSize, by: groupSize) {
                let group = try subset(inputs, samples: start..<min(inputs.batchSize, start + groupSize), model: engine.model)
                let run = try engine.fuse(group, options: options)
                guard let maps = run.result.attention else { preconditionFailure("attention was asked for") }
                try maps.values.withUnsafeBytes { try file.write($0) }
                fused += run.result.output.values
                if summary == nil {
                    summary = Summary(plan: run.plan, timings: run.timings, groups: 1)
                } else {
                    summary!.timings.forward += run.timings.forward
                    summary!.timings.pack += run.timings.pack
                    summary!.timings.projection += run.timings.projection
                    summary!.timings.blocks += run.timings.blocks
                    summary!.timings.chunks += run.timings.chunks
                    summary!.groups += 1
                }
            }
        }
        do {
            var outputOnly = outputs
            outputOnly.attention = nil
            try outputOnly.write(FusionResult(output: Tensor(shape: [inputs.batchSize, steps, d], values: fused), attention: nil),
                                 provenance: provenance)
        } catch {
            removeOutput(mapsPath)
            throw error
        }
        return summary
    }

    /// Samples `samples` of `inputs` as a batch of their own: the same latents (read in place), the
    /// same pooled text token (as text lengths) and valid frames.
    static func subset(_ inputs: FusionInputs, samples: Range<Int>, model: FusionModel) throws -> FusionInputs {
        try FusionInputs(
            text: SampleRows(inputs.text, samples: samples),
            images: SampleRows(inputs.images, samples: samples),
            textLengths: inputs.textTokens == nil ? nil : samples.map { inputs.pooledTextIndex[$0] + 1 },
            textMask: nil,
            imageLengths: Array(inputs.imageLengths[samples]),
            model: model)
    }
}

/// Samples `samples` (the first axis) of a source, as a source of its own.
struct SampleRows: FloatSource {
    let base: any FloatSource
    let offset: Int
    let shape: [Int]

    init(_ base: any FloatSource, samples: Range<Int>) {
        self.base = base
        let perSample = base.shape.dropFirst().reduce(1, *)
        offset = samples.lowerBound * perSample
        shape = [samples.count] + base.shape.dropFirst()
    }

    func withElements<R>(in range: Range<Int>, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        try base.withElements(in: (range.lowerBound + offset)..<(range.upperBound + offset), body)
    }

    func releaseResidentPages(in range: Range<Int>) {
        base.releaseResidentPages(in: (range.lowerBound + offset)..<(range.upperBound + offset))
    }
}
