/// Errors of batch jobs that are not about a NumPy file's bytes (NpyError) or the model (FusionError).
public enum JobError: Error, CustomStringConvertible, Equatable {
    /// An input combination that cannot be fused.
    case inputs(String)
    /// A bundle .npz without the members a batch needs.
    case bundle(path: String, String)
    /// A manifest line that cannot be read as a job.
    case manifest(path: String, line: Int, String)
    /// A `--shard` value that is not K/N with 0 ≤ K < N.
    case shard(String)
    /// Outputs that are inputs of the same run, one line each (a usage error: nothing ran).
    case collision([String])

    public var description: String {
        switch self {
        case let .inputs(message):
            return message
        case let .bundle(path, message):
            return "\(path): \(message)"
        case let .manifest(path, line, message):
            return "\(path):\(line): \(message)"
        case let .collision(problems):
            return problems.joined(separator: "\n") + "\nan output never replaces an input: choose other output paths"
        case let .shard(value):
            return "invalid shard '\(value)': expected K/N with 0 <= K < N (e.g. 0/4)"
        }
    }
}
