import Foundation
import Fusion
import NpyIO

/// What happened to one job.
public enum JobOutcome: Sendable, Equatable {
    /// Fused and written; `samples` is its batch size.
    case done(samples: Int)
    /// Its outputs already existed and were complete (and `force` was off).
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
    public var jobsFinished: Int { done + skipped + failed }
}

/// Runs a manifest's jobs (one shard of them) with one loaded model.
///
/// Jobs run one after another (each fuses its own batch with all threads); a job's outputs are
/// written atomically, so a run killed midway leaves only complete files, and running the same
/// command again skips them and finishes the rest with the same bits a clean run writes.
public struct JobRunner {
    /// The model with its weights packed once for every job.
    public var engine: FusionEngine
    public var options: FusionOptions
    /// Recompute jobs whose outputs already exist.
    public var force = false
    /// Stop at the first failed job.
    public var failFast = false
    /// Let NaN and Inf in inputs through.
    public var allowNonfinite = false

    public init(engine: FusionEngine, options: FusionOptions) {
        self.engine = engine
        self.options = options
    }

    /// Runs one job: skip when complete, otherwise load, check, fuse and write.
    public func run(_ job: Job) -> JobOutcome {
        if !force && job.outputs.areComplete { return .skipped }
        job.outputs.removeStaleTemporaryFiles()
        do {
            let inputs = try job.inputs.load(model: engine.model)
            if !allowNonfinite { try inputs.checkFinite() }
            var jobOptions = options
            jobOptions.attention = job.outputs.attention != nil
            if try AttentionStream.fuse(inputs, engine: engine, options: jobOptions, outputs: job.outputs) != nil {
                return .done(samples: inputs.batchSize)
            }
            try AttentionMapSize.check(inputs, config: engine.model.config, options: jobOptions)
            let result = try engine.fuse(inputs, options: jobOptions).result
            try job.outputs.write(result)
            return .done(samples: inputs.batchSize)
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
            case .done(let samples):
                progress.done += 1
                progress.samples += samples
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
}
