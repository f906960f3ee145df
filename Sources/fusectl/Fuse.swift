import ArgumentParser
import Foundation
import Fusion
import FusionJobs
import Heatmap
import NpyIO

/// `fusectl fuse`: the main job, for one batch or a manifest of many.
struct Fuse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fuse instructions and frame histories into one vector per sample.",
        discussion: """
            Inputs come as separate files (--text, --images and optionally --text-lengths or --text-mask, \
            and --image-lengths) or as one bundle (--batch) with members 'text', 'images', 'text_lengths', \
            'text_mask', 'image_lengths'. Shapes:
              text           (B, L, txt_latent_dim), or (B, txt_latent_dim) if pooled
              images         (B, T, img_latent_dim), or (B, T, P, img_latent_dim)
              text_lengths   (B,) integers: sample b's real tokens are 0..len-1
              text_mask      (B, L): nonzero marks a real token; the last real one is used
              image_lengths  (B,) integers: valid frames, 1..T; later frames are padding
            With --one-sample every file is one sample, without the batch axis (one episode per file, as \
            an encoder writes them): text (L, txt) or (txt), images (T, img) or (T, P, img), text_mask (L), \
            lengths a scalar; the output is (1, 1, d), or (1, T, d) with --per-step. Without it a 2-D text \
            is (B, txt), pooled vectors of B samples ('stream --text' always reads one instruction, as \
            --one-sample does).

            The output is (B, 1, d), or (B, T, d) with --per-step, where row t is the fusion of frames 0..t \
            (zeros for t >= image_lengths[b]). --attention writes the attention weights: (B, N, H, T*P), or \
            (B, T, N, H, T*P) with --per-step (quadratic in T). Maps over 256 MiB (or an eighth of the \
            memory the run may use: physical, cgroup or FUSECTL_MEMORY_LIMIT bytes) are written to their \
            .npy as groups of samples are fused, so memory holds one group's maps; the bytes are those of \
            an all-at-once run. Where that cannot be done (one sample's maps over a quarter of that memory; \
            maps into a .npz, or needed whole by --attention-png or --report) maps over a quarter of it are \
            refused before the forward pass, with their size. Outputs are written atomically: on any error \
            no file is left. \
            An output named *.npz is an archive: --out writes its member 'fused', --attention its member \
            'attention', and '--out r.npz --attention r.npz' puts both in one archive. Any other two outputs \
            naming the same file (after resolving links and '..') are a usage error.

            Many batches: --manifest JOBS runs one job per line of a TSV or JSON Lines file (columns text, \
            images, out, and optionally image_lengths, text_mask, text_lengths, attention, or batch (a \
            bundle .npz) instead of the separate inputs; relative paths are relative to the manifest's \
            folder) with the weights loaded once. The whole manifest is checked first: every line that \
            cannot be read, every output file two jobs would write and every output that is an input of \
            the run is reported, and then no job runs. Missing output folders are created. Every output gets \
            a record beside it (FILE.fusectl.json, shown by 'fusectl inspect FILE'); a job whose outputs \
            exist is skipped only when their records match this run (weights, configuration, inputs, mode, \
            dtype, plan, version) and the files are complete, and recomputed otherwise (the summary says \
            why; --verify also checks each file's CRC-32). An existing output without a record stops the run \
            unless --force, which recomputes everything. A killed run resumes where it stopped; --shard K/N takes the jobs whose index is K mod N; --gather \
            all.npz writes every job's vectors into one archive with an index instead of one file a job. A \
            failed job is reported and the others go on (--fail-fast stops); the exit status is 1 when any \
            job failed.

            Examples:
              fusectl fuse --weights w.npz --text t.npy --images i.npy --out f.npy
              fusectl fuse --weights ckpt.npz --prefix policy.fusion. \\
                  --batch batch.npz --per-step --out - > steps.npy
              fusectl fuse --weights w.npz --manifest jobs.tsv --shard 2/8
            """
    )

    @OptionGroup(title: "Model")
    var model: ModelOptions

    @OptionGroup(title: "Inputs (one batch)")
    var inputs: InputOptions

    @Option(help: ArgumentHelp("Where to write the fused vectors: .npy, or .npz (member 'fused'); '-' for standard output.", valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("Also write the attention weights to this .npy, or .npz (member 'attention'; may be --out's .npz).", valueName: "file"))
    var attention: String?

    @Option(help: ArgumentHelp("Also draw the attention weights as a PNG heatmap (see 'fusectl heatmap').", valueName: "file"))
    var attentionPng: String?

    @OptionGroup(title: "Many batches")
    var jobs: ManifestOptions

    @Flag(help: "Fuse every prefix of the history: output (B, T, d).")
    var perStep = false

    @Option(help: ArgumentHelp(
        "With --per-step: row t fuses only the most recent N frames, t-N+1..t, bit for bit the vector 'stream --window N' gives at step t (every row runs plan A, as a stream session does).",
        valueName: "N"))
    var window: Int?

    @Option(help: "The output's dtype: float16, float32 or float64.")
    var outDtype: OutputDType = .float32

    @Option(help: "Worker threads (0: all cores). Results do not depend on it.")
    var threads: Int = 0

    @Option(help: ArgumentHelp(
        "The exact plan: automatic (chosen per sample from its own sizes: plain mode A for short histories, B' for long ones; per-step mode C, or A for short histories of many tokens per frame), x-formed (plan A for every sample in every mode: plain output bit-identical to per-step rows and 'stream'), kv-formed (plan C, K and V formed, for every sample: plain output bit-identical to per-step rows), projector-absorbed (B' for every plain sample) or reference. Plans agree within float32 rounding (1e-5); see docs/model.md.",
        valueName: "plan"))
    var plan: FusionPlanChoice = .automatic

    @Flag(help: "Print how many weights were used (and left aside outside --prefix), the chosen plan, every candidate's predicted FLOPs, bytes and time, and why, on standard error.")
    var explain = false

    @Flag(help: "Print one JSON line of timings on standard error: load, pack, forward, write seconds, plan, FLOPs.")
    var timings = false

    @Flag(help: "Let NaN and Inf in the inputs and the weights through instead of failing.")
    var allowNonfinite = false

    @Flag(help: "Print a short human summary on standard error: the output shape, a few values of each sample and the frames that got the most attention.")
    var report = false

    func validate() throws {
        try inputs.validate()
        guard threads >= 0 else { throw ValidationError("--threads must be 0 (all cores) or more.") }
        if let window {
            guard window >= 1 else { throw ValidationError("--window must be at least 1 (frames).") }
            guard perStep else {
                throw ValidationError("--window applies to per-step rows: add --per-step (row t then fuses frames t-N+1..t).")
            }
            guard plan == .automatic || plan == .xFormed else {
                throw ValidationError("--window runs plan A (x-formed) on every row, as 'stream --window' does; drop --plan \(plan.rawValue).")
            }
        }
        if let manifest = jobs.manifest {
            guard inputs.isEmpty else {
                throw ValidationError("--manifest takes each job's inputs from its line; drop \(inputs.given.joined(separator: ", ")) (or run that batch without --manifest).")
            }
            guard out == nil, attention == nil, attentionPng == nil, !report else {
                throw ValidationError("--manifest names each job's outputs; drop --out, --attention, --attention-png and --report.")
            }
            guard !explain, !timings else {
                throw ValidationError("--explain and --timings describe one batch; with --manifest run the job alone to see them.")
            }
            if manifest == "-" && (model.weights == "-" || model.config == "-") {
                throw ValidationError("Only one input can be '-' (standard input).")
            }
            return
        }
        try jobs.validateUnused()
        try inputs.validateComplete()
        guard !inputs.isEmpty else {
            throw ValidationError("Missing inputs: give --text and --images, --batch, or --manifest.")
        }
        guard out != nil else { throw ValidationError("Missing --out (the file for the fused vectors; '-' for standard output).") }
        let stdinUsers = inputs.stdinUsers + (model.weights == "-" ? ["--weights"] : [])
            + (model.config == "-" ? ["--config"] : [])
        if stdinUsers.count > 1 {
            throw ValidationError("Only one input can be '-' (standard input); got \(stdinUsers.joined(separator: ", ")).")
        }
        let stdoutUsers = [out, attention, attentionPng].filter { $0 == "-" }
        if stdoutUsers.count > 1 {
            throw ValidationError("Only one of --out, --attention and --attention-png can be '-' (standard output).")
        }
        if !stdoutUsers.isEmpty && isatty(1) != 0 {
            let option = [("--out", out), ("--attention", attention), ("--attention-png", attentionPng)].first { $0.1 == "-" }!.0
            throw ValidationError("\(option) - writes binary data to standard output, which is a terminal; redirect it (> fused.npy) or pipe it (| python3 ...), or give a file.")
        }
        try checkDistinctOutputs()
        try checkOutputsAreNotInputs()
    }

    /// Two outputs naming one file (after resolving links and `..`) would silently lose one of them;
    /// only --out and --attention may share a path, and only a .npz (one archive, two members).
    private func checkDistinctOutputs() throws {
        let named = [("--out", out), ("--attention", attention), ("--attention-png", attentionPng)]
            .compactMap { option, path in path.map { (option, $0, OutputPath.resolved($0)) } }
            .filter { $0.1 != "-" }
        for (i, first) in named.enumerated() {
            for second in named[(i + 1)...] where first.2 == second.2 {
                if first.0 == "--out" && second.0 == "--attention" && OutputPath.isArchive(first.1) { continue }
                throw ValidationError(
                    "\(first.0) and \(second.0) name the same file (\(second.1)); one would overwrite the other. "
                        + "Give different files" + (second.0 == "--attention" ? ", or one .npz to hold both." : "."))
            }
        }
    }

    var fusionOptions: FusionOptions {
        var options = FusionOptions(perStep: perStep, attention: attention != nil || attentionPng != nil || (report && !perStep),
                                    threads: threads, plan: plan)
        options.window = window
        return options
    }

    /// The single batch as a job of the batch runner.
    var job: Job {
        Job(index: 0, line: 0, inputs: inputs.files,
            outputs: OutputFiles(output: out ?? "-", attention: attention, heatmap: attentionPng, dtype: outDtype.dtype))
    }

    /// No output may be one of the run's inputs or the weights (after resolving links, and by inode).
    private func checkOutputsAreNotInputs() throws {
        let option = { (column: String) in "--" + column.replacingOccurrences(of: "_", with: "-") }
        try checkNoOutputIsAnInput(outputs: job.outputFiles(label: option), inputs: job.inputFiles(label: option) + model.inputFiles)
    }

    func run() throws {
        if jobs.manifest != nil {
            try jobs.run(model: model, options: fusionOptions, outputDType: outDtype.dtype,
                         allowNonfinite: allowNonfinite, threads: threads, oneSample: inputs.oneSample,
                         extraMembers: inputs.batchExtra)
            return
        }
        let clock = ContinuousClock()
        let start = clock.now
        let seconds = { (d: Duration) in Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        do {
            let weights = try model.loadWeights(allowNonfinite: allowNonfinite, explain: explain)
            var runner = JobRunner(engine: FusionEngine(model: weights.model, threads: threads), weights: weights,
                                   weightsFile: model.weights, options: fusionOptions)
            runner.outputDType = outDtype.dtype
            runner.allowNonfinite = allowNonfinite
            let batch = try runner.load(job)
            let loaded = clock.now
            if explain {
                runner.engine.measureMachine()
                printError(runner.engine.plan(for: batch, options: runner.options(for: job)).explanation)
            }
            let run = try runner.fuse(job, inputs: batch, keepResult: report)
            if report, let result = run.result {
                printReport(result, tokensPerFrame: batch.tokensPerFrame, imageLengths: batch.imageLengths)
            }
            if timings {
                let total = seconds(clock.now - start)
                let compute = run.timings.pack + run.timings.forward
                printError(TimingsLine(
                    load_s: seconds(loaded - start), pack_s: run.timings.pack, forward_s: run.timings.forward,
                    write_s: max(0, total - seconds(loaded - start) - compute), total_s: total,
                    plan: run.plan.runName, flops: run.plan.chosen.flops,
                    threads: runner.engine.threads, cpu: FusionEngine.cpuLevel).json)
            }
        } catch {
            throw failure("fuse", error)
        }
    }
}

/// `--timings`: one JSON object on one line.
struct TimingsLine: Encodable {
    var load_s: Double
    var pack_s: Double
    var forward_s: Double
    var write_s: Double
    var total_s: Double
    var plan: String
    var flops: Double
    var threads: Int
    var cpu: String

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// `--plan` values.
/// `--plan` takes the library's own choice names (automatic, x-formed, projector-absorbed, kv-formed,
/// reference).
extension FusionPlanChoice: ExpressibleByArgument {}

extension Fuse {
    /// `--report`: what came out, for a person at the terminal. Plain mode: each sample's first
    /// values and its most attended frames among its valid ones (padding frames, which get no
    /// attention, are never listed). Per-step mode: each sample's last valid row, labelled with its step.
    func printReport(_ result: FusionResult, tokensPerFrame: Int, imageLengths: [Int]) {
        let shape = result.output.shape
        printError("fused \(shape[0]) samples -> \(shapeText(shape)) \(outDtype.rawValue) in \(out == "-" ? "<stdout>" : out ?? "")")
        let frameWeights = result.attention.flatMap { maps in
            perStep ? nil : FrameAttention.perFrame(values: maps.values, shape: maps.shape, tokensPerFrame: tokensPerFrame)
        }
        let d = shape[2]
        for sample in 0..<shape[0] {
            // Per step: the last valid row, t = len - 1 (later rows are zeros).
            let step = perStep ? imageLengths[sample] - 1 : 0
            let start = (sample * shape[1] + step) * d
            let first = result.output.values[start..<(start + min(4, d))]
            let label = perStep
                ? "sample \(sample), step \(step) (last of \(imageLengths[sample]) valid\(window.map { ", window \($0)" } ?? ""))"
                : "sample \(sample)"
            var line = "\(label): [" + first.map { formatValue(Double($0)) }.joined(separator: ", ")
                + (d > 4 ? ", ...]" : "]")
            if let weights = frameWeights?[sample] {
                let valid = Array(weights.prefix(imageLengths[sample]))
                let top = FrameAttention.top(valid, count: 3)
                line += "; most attended frames: " + top.map { "\($0) (\(formatValue(valid[$0])))" }.joined(separator: ", ")
            }
            printError(line)
        }
    }
}

/// The dtypes `--out-dtype` accepts.
enum OutputDType: String, ExpressibleByArgument, CaseIterable {
    case float16, float32, float64

    var dtype: NpyDType {
        switch self {
        case .float16: return .float16
        case .float32: return .float32
        case .float64: return .float64
        }
    }
}
