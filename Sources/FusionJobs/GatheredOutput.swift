import Fusion
import NpyIO

/// A manifest run whose jobs' vectors go into one archive instead of one file a job (`fuse --manifest
/// JOBS --gather all.npz`): a ragged dataset of J episodes becomes one array plus an index.
///
/// Members (int64 indices):
/// - `fused`: plain mode (N, 1, d), N = Σ_j B_j, job j's samples in manifest order; per-step mode
///   (R, d), every sample's valid rows only (row t of a sample is the fusion of its frames 0..t, for
///   t < its image_lengths), R = Σ over samples of their valid frames.
/// - `job_index` (J,): each gathered job's 0-based index in the manifest (the shard's jobs with --shard).
/// - `job_offsets` (J+1,): job j's samples are samples job_offsets[j] ..< job_offsets[j+1].
/// - `sample_offsets` (N+1,), per-step only: sample s's rows are fused[sample_offsets[s] ..< sample_offsets[s+1]].
///
/// The archive is one output with one record (its `made` lists every job's inputs): a resumed run keeps
/// it when the record matches and recomputes it whole otherwise; it is written atomically once every
/// job is fused, so a run with a failed job writes nothing.
public struct GatheredOutput {
    /// Where the archive goes (.npz, or "-" for standard output, which gets no record).
    public var path: String

    public init(path: String) {
        self.path = path
    }


    /// What the archive is made from: this run's settings and every gathered job's inputs, in order.
    public func provenance(of jobs: [Job], runner: JobRunner) -> Provenance {
        var layout = InputFiles()
        layout.oneSample = jobs.first?.inputs.oneSample ?? false
        var made = Provenance.of(layout, loaded: runner.weights, weightsFile: runner.weightsFile,
                                 options: runner.options, outputDType: runner.outputDType, attention: false)
        made.inputs = jobs.flatMap { job in
            job.inputs.named.map { Provenance.Input.stamp(role: "job \(job.index) \($0.role)", path: $0.path) }
        }
        return made
    }

    /// The archive's members for a run in this mode.
    static func members(perStep: Bool) -> [String] {
        [OutputFiles.fusedMember, "job_index", "job_offsets"] + (perStep ? ["sample_offsets"] : [])
    }

    /// What is there already at `path` against `made` (this run's `provenance(of:runner:)`); nothing, with `force`.
    public func state(against made: Provenance, runner: JobRunner) -> OutputState {
        guard !runner.force, path != "-" else { return .absent }
        return OutputRecord.state(of: path, role: "gathered", layout: .archive(Self.members(perStep: runner.options.perStep)),
                                  against: made, verify: runner.verify)
    }

    /// Fuses `jobs` one after another (calling `report` after each) and writes the archive when all
    /// succeeded; skips everything when the archive is current (see `state(against:runner:)`).
    ///
    /// - Returns: the counts; `recomputed` holds the reason when a recorded archive was replaced.
    /// - Throws: `JobError.inputs` when a file without a record is at `path` (unless `force`);
    ///   `NpyError` when the archive cannot be written.
    public func run(_ jobs: [Job], runner: JobRunner, report: (Job, JobOutcome, JobProgress) -> Void) throws -> JobProgress {
        var progress = JobProgress(jobsTotal: jobs.count)
        let made = provenance(of: jobs, runner: runner)  // every input stamped once, for the check and the record
        let state = state(against: made, runner: runner)
        if case .unrecorded(let file) = state {
            throw JobError.inputs(JobRunner.unrecordedMessage(file) + "; give --force to overwrite it")
        }
        if state == .current {
            progress.skipped = jobs.count
            return progress
        }
        var fused: [Float] = []
        var jobOffsets: [Int64] = [0]
        var sampleOffsets: [Int64] = [0]
        var width = 0
        for job in jobs {
            let outcome: JobOutcome
            do {
                let inputs = try runner.load(job)
                let result = try runner.engine.fuse(inputs, options: runner.options).result.output
                let steps = result.shape[1]
                width = result.shape[2]
                for sample in 0..<inputs.batchSize {
                    let rows = runner.options.perStep ? inputs.imageLengths[sample] : 1
                    let start = sample * steps * width
                    fused += result.values[start..<(start + rows * width)]
                    sampleOffsets.append(sampleOffsets.last! + Int64(rows))
                }
                jobOffsets.append(jobOffsets.last! + Int64(inputs.batchSize))
                outcome = .done(samples: inputs.batchSize, recomputed: nil)
                progress.done += 1
                progress.samples += inputs.batchSize
            } catch {
                outcome = .failed("\(error)")
                progress.failed += 1
            }
            report(job, outcome, progress)
            if case .failed = outcome, runner.failFast { break }
        }
        guard progress.failed == 0 else { return progress }
        if case .stale(let reason) = state { progress.recomputed[reason] = progress.done }
        let samples = Int(jobOffsets.last!)
        let shape = runner.options.perStep ? [Int(sampleOffsets.last!), width] : [samples, 1, width]
        var archive = NpzWriter(alignment: 64)
        archive.add(OutputFiles.fusedMember, try NpyArray(float32: fused, shape: shape).converted(to: runner.outputDType))
        archive.add("job_index", NpyArray(int64: jobs.map { Int64($0.index) }, shape: [jobs.count]))
        archive.add("job_offsets", NpyArray(int64: jobOffsets, shape: [jobOffsets.count]))
        if runner.options.perStep {
            archive.add("sample_offsets", NpyArray(int64: sampleOffsets, shape: [sampleOffsets.count]))
        }
        assert(archive.names == Self.members(perStep: runner.options.perStep))
        try OutputFiles(output: path).makeFolders()
        try archive.write(to: path, beforeRename: path == "-" ? nil : OutputRecord.writer(
            for: path, role: "gathered", members: archive.names, made: made))
        return progress
    }
}
