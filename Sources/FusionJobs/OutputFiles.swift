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
    /// The fused vectors' dtype: float16, float32 or float64.
    public var dtype: NpyDType
    /// Create missing folders above the outputs (like `mkdir -p`) before writing.
    public var createFolders = false

    public init(output: String, attention: String? = nil, dtype: NpyDType = .float32) {
        self.output = output
        self.attention = attention
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
    /// they share a .npz). When the output fails after the maps were written, the maps are removed
    /// too, so that a failed job leaves neither.
    ///
    /// - Throws: `NpyError` naming the path that could not be written; `JobError.inputs` when a
    ///   folder cannot be created (with `createFolders`) or the outputs collide (`checkDistinct()`).
    public func write(_ result: FusionResult) throws {
        try checkDistinct()
        if createFolders { try makeFolders() }
        let fused = try NpyArray(float32: result.output.values, shape: result.output.shape).converted(to: dtype)
        let maps = result.attention.map { NpyArray(float32: $0.values, shape: $0.shape) }
        if sharesArchive {
            var archive = NpzWriter(alignment: 64)
            archive.add(Self.fusedMember, fused)
            if let maps { archive.add(Self.attentionMember, maps) }
            try archive.write(to: output)
            return
        }
        if let attention, let maps {
            try Self.write(maps, member: Self.attentionMember, to: attention)
        }
        do {
            try Self.write(fused, member: Self.fusedMember, to: output)
        } catch {
            if let attention { removeRegularFile(attention) }
            throw error
        }
    }

    /// `array` as a .npy, or as the one member `member` of a .npz when `path` ends in `.npz`.
    private static func write(_ array: NpyArray, member: String, to path: String) throws {
        if OutputPath.isArchive(path) {
            var archive = NpzWriter(alignment: 64)
            archive.add(member, array)
            try archive.write(to: path)
        } else {
            try NpyFile.write(array, to: path)
        }
    }

    /// Creates the folders above `output` and `attention` that do not exist yet.
    func makeFolders() throws {
        for path in [output, attention].compactMap({ $0 }) where path != "-" {
            let folder = (path as NSString).deletingLastPathComponent
            guard !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) else { continue }
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw JobError.inputs("\(folder): cannot create the output folder (\(error.localizedDescription))")
            }
        }
    }

    /// Removes what a killed earlier writer of these outputs left behind (see
    /// `OutputFile.removeStaleTemporaryFiles(for:)`), so a resumed run ends with exactly the files a
    /// clean run writes.
    public func removeStaleTemporaryFiles() {
        for path in [output, attention].compactMap({ $0 }) {
            OutputFile.removeStaleTemporaryFiles(for: path)
        }
    }

    /// Whether `output` (and `attention`, if any) already hold complete files: .npy headers that
    /// parse and exactly the data they announce, or .npz archives whose directory lists the expected
    /// members and whose members parse. Atomic writes mean a file that exists is complete unless
    /// something else wrote it, so this is a cheap check, not a recomputation.
    public var areComplete: Bool {
        var expected: [String: [String]] = [output: [Self.fusedMember]]
        if let attention {
            expected[sharesArchive ? output : attention, default: []].append(Self.attentionMember)
        }
        return expected.allSatisfy { path, members in
            guard path != "-" else { return false }
            guard OutputPath.isArchive(path) else { return (try? NpyFile.read(path: path)) != nil }
            guard let archive = try? NpzArchive(path: path) else { return false }
            return members.allSatisfy { (try? archive.array(named: $0)) != nil }
        }
    }
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
