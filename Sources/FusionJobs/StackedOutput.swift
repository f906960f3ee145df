import Foundation
import Fusion
import NpyIO

/// One gathered output for a whole manifest (`fuse --manifest JOBS --stack OUT.npz`): every job's rows
/// in manifest order in one array, with an index of which rows belong to which job and sample, instead
/// of one small file per job.
///
/// Each job is run as usual into its own part, `OUT.npz.parts/NNNNNNNN.npy` (N the job's 0-based index),
/// so a killed or sharded run resumes like any manifest run (finished parts are skipped); once every
/// job's part exists, the parts are gathered, in manifest order, into `OUT.npz`, written atomically.
/// The parts are kept, so running the same command again gathers the same bytes without recomputing.
///
/// `OUT.npz` holds (J jobs, B = ΣB_j samples, R rows):
/// - `fused`: plain mode (B, 1, d), sample after sample; per-step mode (R, d), the valid rows only
///   (steps 0 … image_lengths[b]−1 of each sample: ragged episodes without padding), in the run's
///   output dtype;
/// - `job_offsets` (J+1,) int64: job j's rows are `fused[job_offsets[j]:job_offsets[j+1]]`;
/// - `sample_offsets` (B+1,) int64: the same for samples (sample after sample across jobs);
/// - `sample_job` (B,) int64: the job of each sample; `job_line` (J,) int64: each job's manifest line.
public struct StackedOutput: Sendable, Equatable {
    /// The gathered file, a `.npz`.
    public let path: String

    /// - Throws: `JobError.inputs` when `path` is not a `.npz` file name (or is standard output).
    public init(path: String) throws {
        guard path != "-", OutputPath.isArchive(path) else {
            throw JobError.inputs("--stack \(path): the gathered output is an archive of several arrays; name a .npz file")
        }
        self.path = path
    }

    /// Where the jobs' parts go: `OUT.npz.parts`.
    public var partsFolder: String { path + ".parts" }

    /// Job `index`'s part in `folder`.
    public static func partPath(in folder: String, job index: Int) -> String {
        folder + "/" + String(format: "%08d.npy", index)
    }

    /// What a gather wrote.
    public struct Summary: Sendable, Equatable {
        public var jobs: Int
        public var samples: Int
        public var rows: Int
    }

    /// The jobs whose part is missing or incomplete (run by another shard, failed, or not run yet).
    public func missingParts(_ jobs: [Job]) -> [Job] {
        jobs.filter { !$0.outputs.areComplete }
    }

    /// Gathers every job's part into ``path``.
    ///
    /// - Parameters:
    ///   - jobs: all the manifest's jobs (every shard's), in manifest order, their outputs the parts.
    ///   - model: to read each job's image lengths (per-step mode keeps only the valid rows).
    ///   - perStep: whether the parts hold per-step rows (B_j, T_j, d) rather than (B_j, 1, d).
    ///   - dtype: the parts' (and the gathered output's) dtype.
    /// - Throws: `JobError.inputs` naming a part whose shape does not fit the mode or whose rows differ
    ///   in size from the first part's; `NpyError` reading a part or writing the output; whatever opening a
    ///   job's inputs throws.
    public func gather(_ jobs: [Job], model: FusionModel, perStep: Bool, dtype: NpyDType) throws -> Summary {
        var doubles: [Double] = [], floats: [Float] = []
        var jobOffsets: [Int64] = [0], sampleOffsets: [Int64] = [0], sampleJob: [Int64] = [], jobLine: [Int64] = []
        var d: Int?
        for (j, job) in jobs.enumerated() {
            let part = try NpyFile.read(path: job.outputs.output)
            guard part.rank == 3, perStep || part.shape[1] == 1, d == nil || part.shape[2] == d else {
                throw JobError.inputs(
                    "\(job.outputs.output): a part of shape \(shapeText(part.shape)) does not fit a "
                        + "\(perStep ? "per-step" : "plain") gather of rows of \(d.map(String.init) ?? "d") values")
            }
            d = part.shape[2]
            let (batch, steps, width) = (part.shape[0], part.shape[1], part.shape[2])
            let lengths = perStep ? try job.inputs.load(model: model).imageLengths : [Int](repeating: 1, count: batch)
            guard lengths.count == batch else {
                throw JobError.inputs("\(job.outputs.output): \(batch) samples, but the job's inputs hold \(lengths.count)")
            }
            let wide = dtype == .float64
            let values64 = wide ? try part.float64Elements() : []
            let values32 = wide ? [] : try part.float32Elements()
            for b in 0..<batch {
                let start = b * steps * width, count = min(lengths[b], steps) * width
                if wide { doubles += values64[start..<(start + count)] } else { floats += values32[start..<(start + count)] }
                sampleOffsets.append(sampleOffsets.last! + Int64(count / width))
                sampleJob.append(Int64(j))
            }
            jobOffsets.append(sampleOffsets.last!)
            jobLine.append(Int64(job.line))
        }
        let width = d ?? model.config.projDim
        let rows = Int(jobOffsets.last!)
        let shape = perStep ? [rows, width] : [rows, 1, width]
        let fused = dtype == .float64
            ? NpyArray(float64: doubles, shape: shape)
            : try NpyArray(float32: floats, shape: shape).converted(to: dtype)
        var writer = NpzWriter(compression: .stored, alignment: 64)
        writer.add(OutputFiles.fusedMember, fused)
        writer.add("job_offsets", NpyArray(int64: jobOffsets, shape: [jobOffsets.count]))
        writer.add("sample_offsets", NpyArray(int64: sampleOffsets, shape: [sampleOffsets.count]))
        writer.add("sample_job", NpyArray(int64: sampleJob, shape: [sampleJob.count]))
        writer.add("job_line", NpyArray(int64: jobLine, shape: [jobLine.count]))
        try writer.write(to: path)
        return Summary(jobs: jobs.count, samples: sampleJob.count, rows: rows)
    }
}
