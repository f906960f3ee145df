import Fusion
import NpyIO

/// What one output was computed from: the weights' content and configuration, the inputs as they
/// were read, the mode, the output dtype, the plan option, whether maps were asked for, and the
/// version of fusectl that fixes the bits. Two runs with equal provenances write equal bytes
/// (docs/outputs.md).
///
/// Encoded as JSON in every output's record (``OutputRecord``); compared field by field by
/// ``reasonToRecompute(recorded:)`` when a resumed run decides whether an output can be kept.
public struct Provenance: Codable, Equatable, Sendable {
    /// The weights as their content: what ``LoadedWeights/fingerprint`` says, plus where they were
    /// read from (for people; never compared).
    public struct Weights: Codable, Equatable, Sendable {
        /// ``LoadedWeights/fingerprint``: a hash of every tensor's key, dtype, shape and CRC-32.
        public var fingerprint: String
        /// The prefix stripped from the file's keys ("" for none).
        public var prefix: String
        /// The weights file's path as given (informational).
        public var file: String

        public init(fingerprint: String, prefix: String, file: String) {
            self.fingerprint = fingerprint
            self.prefix = prefix
            self.file = file
        }
    }

    /// One input file as it was when read, by make's rule: resolved path, size and modification time.
    public struct Input: Codable, Equatable, Sendable {
        /// Which input: `text`, `images`, `text_lengths`, `text_mask`, `image_lengths` or `batch`.
        public var role: String
        /// The path made absolute (against the current folder) and normalised lexically.
        public var path: String
        public var bytes: Int
        /// Modification time, nanoseconds since the epoch.
        public var modifiedNanoseconds: Int64

        enum CodingKeys: String, CodingKey {
            case role, path, bytes
            case modifiedNanoseconds = "modified_ns"
        }
    }

    /// The fusectl version that wrote the output (`FusionVersion.current`).
    public var fusectl: String
    public var weights: Weights
    /// The configuration as `FusionConfig.jsonString()` writes it (every key, sorted): a string, so
    /// that comparing records never re-validates a configuration.
    public var config: String
    public var inputs: [Input]
    /// `plain` or `per-step`.
    public var mode: String
    /// The history window (most recent frames kept), or nil for the whole history.
    public var window: Int?
    /// Whether each input file was read as one sample (`--one-sample`: (L, txt) text, (T, img) images).
    public var oneSample: Bool
    /// The fused vectors' dtype: `float16`, `float32` or `float64`.
    public var outputDType: String
    /// The `--plan` option: `automatic` or the forced plan's name.
    public var plan: String
    /// Whether attention maps were computed (they are written beside the vectors).
    public var attention: Bool

    enum CodingKeys: String, CodingKey {
        case fusectl, weights, config, inputs, mode, window, plan, attention
        case outputDType = "out_dtype"
        case oneSample = "one_sample"
    }

    public init(fusectl: String = FusionVersion.current, weights: Weights, config: String, inputs: [Input],
                mode: String, window: Int? = nil, oneSample: Bool = false, outputDType: String, plan: String,
                attention: Bool) {
        self.fusectl = fusectl
        self.weights = weights
        self.config = config
        self.inputs = inputs
        self.mode = mode
        self.window = window
        self.oneSample = oneSample
        self.outputDType = outputDType
        self.plan = plan
        self.attention = attention
    }

    /// The provenance of a job of this run: `weights` loaded as `loaded`, the job's input files stamped
    /// now (a path that cannot be stat'ed, or "-", is stamped with size -1).
    public static func of(_ inputs: InputFiles, loaded: LoadedWeights, weightsFile: String, options: FusionOptions,
                          outputDType: NpyDType, attention: Bool) -> Provenance {
        Provenance(
            weights: Weights(fingerprint: loaded.fingerprint, prefix: loaded.prefix, file: weightsFile),
            config: loaded.model.config.jsonString(),
            inputs: inputs.named.map { role, path in Input.stamp(role: role, path: path) },
            mode: options.perStep ? "per-step" : "plain", window: options.window, oneSample: inputs.oneSample,
            outputDType: outputDType.description,
            plan: options.plan.rawValue, attention: attention)
    }

    /// Why an output recorded as made from `recorded` is not what this provenance would write, in a
    /// few words for the run's summary ("made by other weights"), or nil when it is.
    public func reasonToRecompute(recorded: Provenance) -> String? {
        if recorded.fusectl != fusectl { return "made by fusectl \(recorded.fusectl)" }
        if recorded.weights.fingerprint != weights.fingerprint { return "made by other weights" }
        if recorded.config != config { return "made with another configuration" }
        if recorded.mode != mode { return "made in \(recorded.mode) mode" }
        if recorded.window != window { return recorded.window.map { "made with window \($0)" } ?? "made without a window" }
        if recorded.oneSample != oneSample { return recorded.oneSample ? "read as one sample a file" : "read as batches" }
        if recorded.outputDType != outputDType { return "written as \(recorded.outputDType)" }
        if recorded.plan != plan { return "made with plan \(recorded.plan)" }
        if recorded.attention != attention {
            return recorded.attention ? "made with attention maps" : "made without attention maps"
        }
        let recordedRoles = recorded.inputs.map(\.role)
        if recordedRoles != inputs.map(\.role) { return "made from other inputs" }
        for (old, new) in zip(recorded.inputs, inputs) where old != new {
            return old.path == new.path ? "\(new.role) input changed since" : "made from another \(new.role) file"
        }
        return nil
    }
}

extension Provenance.Input {
    /// `path` stamped as it is now: made absolute (lexically: resolving every link of every input of
    /// every job would cost a resumed 10,000-job manifest most of its time), its size and time those of
    /// the file it leads to.
    static func stamp(role: String, path: String) -> Provenance.Input {
        let stamp = FileStamp(path: path)
        return Provenance.Input(role: role, path: OutputPath.absolute(path), bytes: stamp?.byteCount ?? -1,
                                modifiedNanoseconds: stamp?.modifiedNanoseconds ?? 0)
    }
}

extension InputFiles {
    /// The input files with their roles, in a fixed order (absent ones left out).
    public var named: [(role: String, path: String)] {
        [("batch", batch), ("text", text), ("images", images), ("text_lengths", textLengths),
         ("text_mask", textMask), ("image_lengths", imageLengths)]
            .compactMap { role, path in path.map { (role, $0) } }
    }
}
