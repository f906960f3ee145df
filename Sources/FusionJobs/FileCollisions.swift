/// A file a run reads or writes, with the name its messages give it (`--text`, `line 3 'out'`).
public struct RunFile: Sendable, Equatable {
    public var label: String
    public var path: String

    public init(label: String, path: String) {
        self.label = label
        self.path = path
    }
}

/// The rule that no output of a run ever replaces one of its inputs: every output (records
/// included) is compared with every input and the weights file, by path after resolving symbolic
/// links and `..`, and by device and inode where the file exists (a hard link is the same file).
public enum FileCollisions {
    /// Throws when an output is one of the inputs.
    ///
    /// - Throws: `JobError.collision` naming every such pair: `--out t.npy is the input --text t.npy`.
    public static func check(outputs: [RunFile], inputs: [RunFile]) throws {
        var readers: [String: RunFile] = [:]
        for input in inputs where input.path != "-" {
            for key in identities(input.path) where readers[key] == nil { readers[key] = input }
        }
        var problems: [String] = []
        for output in outputs where output.path != "-" {
            guard let input = identities(output.path).lazy.compactMap({ readers[$0] }).first else { continue }
            problems.append("\(output.label) \(output.path) is the input \(input.label) \(input.path)")
        }
        if !problems.isEmpty { throw JobError.collision(problems) }
    }

    /// The keys under which `path` is the same file as another: its resolved path, and its device
    /// and inode when it exists.
    private static func identities(_ path: String) -> [String] {
        var keys = ["path:" + OutputPath.resolved(path)]
        if let stamp = FileStamp(path: path) { keys.append("inode:\(stamp.device):\(stamp.inode)") }
        return keys
    }
}

extension Job {
    /// The files this job reads, labelled by `label(column)` (column: `text`, `images`, …).
    public func inputFiles(label: (String) -> String) -> [RunFile] {
        inputs.named.map { RunFile(label: label($0.role), path: $0.path) }
    }

    /// The files this job writes, records included, labelled by `label(column)` (column: `out`,
    /// `attention`, `attention_png`).
    public func outputFiles(label: (String) -> String) -> [RunFile] {
        let named = [("out", outputs.output), ("attention", outputs.attention), ("attention_png", outputs.heatmap)]
            .compactMap { column, path in path.map { (column, $0) } }
            .filter { $0.1 != "-" }
        return named.flatMap { column, path in
            [RunFile(label: label(column), path: path),
             RunFile(label: "the record of " + label(column), path: OutputRecord.path(for: path))]
        }
    }
}
