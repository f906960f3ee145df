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
/// included) is compared with every input and the weights file — by device and inode where the file
/// exists (symbolic links, `..` and hard links all lead to one inode), by path after resolving its
/// folder's symbolic links and `..` where it does not exist yet.
public enum FileCollisions {
    /// Throws when an output is one of the inputs.
    ///
    /// - Throws: `JobError.collision` naming every such pair: `--out t.npy is the input --text t.npy`.
    public static func check(outputs: [RunFile], inputs: [RunFile]) throws {
        var identities = Identities()
        var readers: [String: RunFile] = [:]
        for input in inputs where input.path != "-" {
            let key = identities.key(input.path)
            if readers[key] == nil { readers[key] = input }
        }
        var problems: [String] = []
        for output in outputs where output.path != "-" {
            guard let input = readers[identities.key(output.path)] else { continue }
            problems.append("\(output.label) \(output.path) is the input \(input.label) \(input.path)")
        }
        if !problems.isEmpty { throw JobError.collision(problems) }
    }

    /// The key under which a path is the same file as another: an existing file's device and inode
    /// (`stat` follows symbolic links and `..`, and a hard link has the same inode); for a path that
    /// does not exist yet, its folder resolved (symbolic links and `..`) and its name. An existing
    /// file and a path that does not exist are never the same file, so the two kinds never meet.
    /// Folders are resolved once each: a manifest's outputs share a few.
    private struct Identities {
        var folders: [String: String] = [:]

        mutating func key(_ path: String) -> String {
            if let stamp = FileStamp(path: path) { return "inode:\(stamp.device):\(stamp.inode)" }
            let slash = path.lastIndex(of: "/")
            let folder = slash.map { String(path[..<$0]) } ?? "."
            let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
            if folders[folder] == nil { folders[folder] = OutputPath.resolved(folder.isEmpty ? "/" : folder) }
            return "path:" + folders[folder]! + "/" + name
        }
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
