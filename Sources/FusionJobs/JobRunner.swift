import Foundation
import Fusion
import Heatmap
import NpyIO

/// What happened to one job.
public enum JobOutcome: Sendable, Equatable {
    /// Fused and written; `samples` is its batch size; `recomputed` says why outputs that were
    /// already there were replaced (nil when there were none).
    case done(samples: Int, recomputed: String?)
    /// Its outputs were already there, complete, intact and made exactly as this run would make them.
    case skipped
    /// It failed; the message names the file and the reason.
    case failed(String)
}

/// Progress of a manifest run, reported after every job.
public struct JobProgress: Sendable, Equatable {
    public var jobsTotal: Int
    public var done = 0
    public var skipped = 0
    public var failed = 0
    public var samples = 0
    /// Jobs among `done` whose earlier outputs were replaced, by reason ("made by other weights": 12).
    public var recomputed: [String: Int] = [:]
    public var jobsFinished: Int { done + skipped + failed }
}

/// One job fused and written, for the single-batch command's `--report` and `--timings`.
public struct JobRun {
    /// The vectors and maps (nil when the maps were streamed to their file group by group and the
    /// vectors written without being kept).
    public var result: FusionResult?
    /// The plan of the (first) group.
    public var plan: FusionPlan
    public var timings: FusionTimings
    public var samples: Int
}

/// The one place where a batch of files is fused: load and check the inputs, fuse, write every
/// output with its record, and — for a resumed manifest — decide which jobs' outputs can be kept.
/// `fusectl fuse` runs a single batch as one job through it, and a manifest as many.
///
/// Jobs run one after another (each fuses its own batch with all threads); a job's outputs are
/// written atomically, each after its record, so a run killed midway leaves only complete files, and
/// running the same command again keeps exactly the outputs this run would write and recomputes the
/// rest, ending with the bytes a clean run writes.
public struct JobRunner {
    /// The model with its weights packed once for every job.
    public var engine: FusionEngine
    /// The loaded weights (for the records' fingerprint and configuration).
    public var weights: LoadedWeights
    /// The weights file as given (recorded for people).
    public var weightsFile: String
    public var options: FusionOptions
    /// The fused vectors' dtype.
    public var outputDType: NpyDType = .float32
    /// Recompute jobs whose outputs already exist, and overwrite files fusectl did not write.
    public var force = false
    /// Check every kept output's CRC-32 against its record (otherwise: record, size and header).
    public var verify = false
    /// Stop at the first failed job.
    public var failFast = false
    /// Let NaN and Inf in inputs through.
    public var allowNonfinite = false

    public init(engine: FusionEngine, weights: LoadedWeights, weightsFile: String, options: FusionOptions) {
        self.engine = engine
        self.weights = weights
        self.weightsFile = weightsFile
        self.options = options
    }

    /// The options `job` runs with: maps computed when any of its outputs wants them.
    public func options(for job: Job) -> FusionOptions {
        var jobOptions = options
        jobOptions.attention = options.attention || job.outputs.attention != nil || job.outputs.heatmap != nil
        return jobOptions
    }

    /// What `job`'s outputs would be made from in this run, its input files stamped now.
    public func provenance(of job: Job) -> Provenance {
        let jobOptions = options(for: job)
        return Provenance.of(job.inputs, loaded: weights, weightsFile: weightsFile, options: jobOptions,
                             outputDType: outputDType, attention: jobOptions.attention)
    }

    /// Opens and checks `job`'s inputs.
    /// - Throws: what `InputFiles.load(model:)` throws; `FusionError` for NaN/Inf unless allowed.
    public func load(_ job: Job) throws -> FusionInputs {
        let inputs = try job.inputs.load(model: engine.model)
        if !allowNonfinite { try inputs.checkFinite() }
        return inputs
    }

    /// Fuses `inputs` (`job`'s, from ``load(_:)``) and writes every output of `job` with its record:
    /// the picture first, then the maps, then the vectors; a failure removes what this job wrote.
    ///
    /// - Parameter keepResult: return the vectors and maps (so maps are never streamed to their file).
    /// - Throws: what fusing and writing throw; `JobError.inputs` for maps too large to hold.
    public func fuse(_ job: Job, inputs: FusionInputs, keepResult: Bool = false) throws -> JobRun {
        let jobOptions = options(for: job)
        let provenance = provenance(of: job)
        var outputs = job.outputs
        outputs.dtype = outputDType
        // Large maps go to their file group by group (only a picture needs them all at once).
        if outputs.heatmap == nil && !keepResult,
           let streamed = try AttentionStream.fuse(inputs, engine: engine, options: jobOptions, outputs: outputs,
                                                   provenance: provenance) {
            return JobRun(result: nil, plan: streamed.plan, timings: streamed.timings, samples: inputs.batchSize)
        }
        try AttentionMapSize.check(inputs, config: engine.model.config, options: jobOptions)
        let run = try engine.fuse(inputs, options: jobOptions)
        if let heatmap = outputs.heatmap, let maps = run.result.attention {
            try Self.writeHeatmap(maps, tokensPerFrame: inputs.tokensPerFrame, to: heatmap, provenance: provenance)
        }
        do {
            try outputs.write(run.result, provenance: provenance)
        } catch {
            if let heatmap = outputs.heatmap { removeOutput(heatmap) }
            throw error
        }
        return JobRun(result: run.result, plan: run.plan, timings: run.timings, samples: inputs.batchSize)
    }

    /// Draws `maps` as a PNG heatmap (one panel per sample) at `path`, with its record.
    static func writeHeatmap(_ maps: Tensor, tokensPerFrame: Int, to path: String, provenance: Provenance) throws {
        let png = PNGEncoder.encode(try HeatmapRenderer.render(
            AttentionMaps(values: maps.values, shape: maps.shape, tokensPerFrame: tokensPerFrame), options: HeatmapOptions()))
        try OutputFile.write(to: path, beforeRename: OutputRecord.writer(for: path, role: "heatmap", made: provenance)) {
            try $0.write(png)
        }
    }

    /// Runs one job of a manifest: keep its outputs when they are current (unless `force`),
    /// otherwise load, check, fuse and write.
    public func run(_ job: Job) -> JobOutcome {
        var recomputed: String?
        if !force {
            switch job.outputs.state(against: provenance(of: job), verify: verify) {
            case .current: return .skipped
            case .absent: break
            case .stale(let reason): recomputed = reason
            case .unrecorded(let path):
                // Checked for the whole run before any job (unrecordedOutputs); a file appeared since.
                return .failed(Self.unrecordedMessage(path))
            }
        }
        job.outputs.removeStaleTemporaryFiles()
        do {
            let run = try fuse(job, inputs: try load(job))
            return .done(samples: run.samples, recomputed: recomputed)
        } catch {
            return .failed("\(error)")
        }
    }

    /// Runs every job of `jobs` in `shard`, in manifest order, calling `report` after each.
    ///
    /// - Returns: the final counts. Failures do not stop the run unless `failFast`.
    public func run(_ jobs: [Job], shard: Shard, report: (Job, JobOutcome, JobProgress) -> Void) -> JobProgress {
        let selected = jobs.filter { shard.contains(jobIndex: $0.index) }
        var progress = JobProgress(jobsTotal: selected.count)
        for job in selected {
            let outcome = run(job)
            switch outcome {
            case .done(let samples, let recomputed):
                progress.done += 1
                progress.samples += samples
                if let recomputed { progress.recomputed[recomputed, default: 0] += 1 }
            case .skipped:
                progress.skipped += 1
            case .failed:
                progress.failed += 1
            }
            report(job, outcome, progress)
            if case .failed = outcome, failFast { break }
        }
        return progress
    }

    /// Why an unrecorded file at an output path is not overwritten.
    public static func unrecordedMessage(_ path: String) -> String {
        "\(path) exists and was not written by fusectl (it has no record \(OutputRecord.path(for: path)))"
    }

    /// The output files of `jobs` that exist but have no record (files fusectl did not write), for a
    /// manifest run to refuse before any job unless forced.
    public static func unrecordedOutputs(_ jobs: [Job]) -> [String] {
        jobs.flatMap { job in
            job.outputs.files.filter { path in
                guard let stamp = FileStamp(path: path), stamp.isRegular else { return false }
                return FileStamp(path: OutputRecord.path(for: path)) == nil
            }
        }
    }
}

/// Removes the output file `path` and its record (after a failure).
func removeOutput(_ path: String) {
    removeRegularFile(path)
    removeRegularFile(OutputRecord.path(for: path))
}
