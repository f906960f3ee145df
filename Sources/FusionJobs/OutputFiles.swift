import Foundation
import Fusion
import NpyIO

/// Where one batch's results go and in which dtype.
///
/// A destination whose name ends in `.npz` gets an archive instead of a .npy: `output` becomes its
/// member `fused`, `attention` its member `attention`, and when both name the same .npz file the one
/// archive holds both members. Two outputs may share a path only that way (see `checkDistinct()`).
public struct OutputFiles: Sendable, Equatable {
    /// The fused vectors: .npy, .npz (member `fused`), or "-" for a .npy on standard output.
    public var output: String
    /// The attention maps, .npy or .npz (member `attention`), if wanted.
    public var attention: String?
    /// A PNG heatmap of the attention maps (single runs), if wanted.
    public var heatmap: String?
    /// The fused vectors' dtype: float16, float32 or float64.
    public var dtype: NpyDType
    /// Create missing folders above the outputs (like `mkdir -p`) before writing.
    public var createFolders = false

    public init(output: String, attention: String? = nil, heatmap: String? = nil, dtype: NpyDType = .float32) {
        self.output = output
        self.attention = attention
        self.heatmap = heatmap
        self.dtype = dtype
    }

    /// The .npz member names: the fused vectors and the attention maps.
    public static let fusedMember = "fused"
    public static let attentionMember = "attention"

    /// Whether the output and the attention maps go into one .npz archive.
    public var sharesArchive: Bool {
        guard let attention, OutputPath.isArchive(output) else { return false }
        return OutputPath.resolved(output) == OutputPath.resolved(attention)
    }

    /// Refuses an `attention` that is the same file as `output` unless both name one .npz archive
    /// (a .npy cannot hold two arrays: one would silently replace the other).
    ///
    /// - Throws: `JobError.inputs` naming both paths.
    public func checkDistinct() throws {
        guard let attention, attention != "-" || output != "-" else { return }
        if OutputPath.resolved(output) == OutputPath.resolved(attention) && !sharesArchive {
            throw JobError.inputs(
                "the output and the attention maps would both be written to \(attention); "
                    + "give two files, or one .npz to hold both")
        }
    }

    /// Writes `result`: the attention maps first, then the output, each atomically (one archive when
    /// they share a .npz), each with its record (``OutputRecord``) when `provenance` is given. When
    /// the output fails after the maps were written, the maps are removed too, so that a failed job
    /// leaves neither.
    ///
    /// - Throws: `NpyError` naming the path that could not be written; `JobError.inputs` when a
    ///   folder cannot be created (with `createFolders`) or the outputs collide (`checkDistinct()`).
    public func write(_ result: FusionResult, provenance: Provenance? = nil) throws {
        try checkDistinct()
        if createFolders { try makeFolders() }
        let fused = try NpyArray(float32: result.output.values, shape: result.output.shape).converted(to: dtype)
        let maps = result.attention.map { NpyArray(float32: $0.values, shape: $0.shape) }
        if sharesArchive {
            var archive = NpzWriter(alignment: 64)
            archive.add(Self.fusedMember, fused)
            if let maps { archive.add(Self.attentionMember, maps) }
            try archive.write(to: output, beforeRename: recordWriter(output, provenance))
            return
        }
        if let attention, let maps {
            try Self.write(maps, member: Self.attentionMember, to: attention,
                           beforeRename: recordWriter(attention, provenance))
        }
        do {
            try Self.write(fused, member: Self.fusedMember, to: output, beforeRename: recordWriter(output, provenance))
        } catch {
            if let attention { removeOutput(attention) }
            throw error
        }
    }

    /// The role a file of these outputs plays in its record.
    func role(of path: String) -> String {
        if path == output { return sharesArchive ? "fused+attention" : "fused" }
        return path == heatmap ? "heatmap" : "attention"
    }

    /// The .npz members the file `path` of these outputs holds, or nil for a .npy.
    func members(of path: String) -> [String]? {
        guard OutputPath.isArchive(path), path != heatmap else { return nil }
        if sharesArchive && path == output { return [Self.fusedMember, Self.attentionMember] }
        return [path == output ? Self.fusedMember : Self.attentionMember]
    }

    /// Writes the record of `path` just before it takes its name (nil: no record).
    func recordWriter(_ path: String, _ provenance: Provenance?) -> ((WrittenFile) throws -> Void)? {
        provenance.map { OutputRecord.writer(for: path, role: role(of: path), members: members(of: path), made: $0) }
    }

    /// `array` as a .npy, or as the one member `member` of a .npz when `path` ends in `.npz`.
    private static func write(_ array: NpyArray, member: String, to path: String,
                              beforeRename: ((WrittenFile) throws -> Void)?) throws {
        if OutputPath.isArchive(path) {
            var archive = NpzWriter(alignment: 64)
            archive.add(member, array)
            try archive.write(to: path, beforeRename: beforeRename)
        } else {
            try NpyFile.write(array, to: path, beforeRename: beforeRename)
        }
    }

    /// Creates the folders above `output` and `attention` that do not exist yet.
    func makeFolders() throws {
        for path in files {
            let folder = (path as NSString).deletingLastPathComponent
            guard !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) else { continue }
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw JobError.inputs("\(folder): cannot create the output folder (\(error.localizedDescription))")
            }
        }
    }

    /// The files these outputs write ("-" left out): the output, and the maps unless they share its archive.
    public var files: [String] {
        ([output] + (sharesArchive ? [] : [attention].compactMap { $0 }) + [heatmap].compactMap { $0 })
            .filter { $0 != "-" }
    }

    /// Removes what a killed earlier writer of these outputs left behind (see
    /// `OutputFile.removeStaleTemporaryFiles(for:)`), records included, so a resumed run ends with
    /// exactly the files a clean run writes.
    public func removeStaleTemporaryFiles() {
        for path in files {
            OutputFile.removeStaleTemporaryFiles(for: path)
            OutputFile.removeStaleTemporaryFiles(for: OutputRecord.path(for: path))
        }
    }

    /// What is already there for these outputs, judged against what this run would write
    /// (`provenance`): see ``OutputState``. Without `verify` the check reads each file's record, its
    /// size and header (a .npy's header and data size, a .npz's directory and member names), and its
    /// CRC-32 only when its modification time differs from the record's; with `verify` every file's
    /// CRC-32 is checked against its record.
    public func state(against provenance: Provenance, verify: Bool = false) -> OutputState {
        let states = files.map { fileState($0, against: provenance, verify: verify) }
        if let unrecorded = states.first(where: { if case .unrecorded = $0 { return true } else { return false } }) {
            return unrecorded
        }
        if states.allSatisfy({ $0 == .current }) { return .current }
        if states.allSatisfy({ $0 == .absent }) { return .absent }
        for case .stale(let reason) in states { return .stale(reason) }
        return .stale("incomplete")  // some files current, the others missing with their records
    }

    private func fileState(_ path: String, against provenance: Provenance, verify: Bool) -> OutputState {
        let layout: OutputRecord.Layout = path == heatmap ? .opaque : members(of: path).map { .archive($0) } ?? .npy
        return OutputRecord.state(of: path, role: role(of: path), layout: layout, against: provenance, verify: verify)
    }
}

/// What an output's files hold, against what a run would write.
public enum OutputState: Sendable, Equatable {
    /// Nothing there yet (neither files nor records).
    case absent
    /// Complete, intact and recorded as made exactly as this run would make them: keep.
    case current
    /// Recorded by fusectl, but not what this run would write, or damaged: recompute. The reason is
    /// a few words for the summary ("made by other weights", "truncated").
    case stale(String)
    /// A file is there without a record: written by something else; not overwritten unless forced.
    case unrecorded(String)
}

#if canImport(Glibc)
import Glibc
#endif

/// Removes `path` if it names a regular file (never a device, FIFO or folder, never "-"). Errors are
/// ignored: this only cleans up after another failure that is being reported.
public func removeRegularFile(_ path: String) {
    var status = stat()
    guard path != "-", lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return }
    unlink(path)
}
