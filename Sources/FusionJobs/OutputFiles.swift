import Fusion
import NpyIO

/// Where one batch's results go and in which dtype.
public struct OutputFiles: Sendable, Equatable {
    /// The fused vectors, .npy ("-" for standard output).
    public var output: String
    /// The attention maps, .npy, if wanted.
    public var attention: String?
    /// The fused vectors' dtype: float16, float32 or float64.
    public var dtype: NpyDType

    public init(output: String, attention: String? = nil, dtype: NpyDType = .float32) {
        self.output = output
        self.attention = attention
        self.dtype = dtype
    }

    /// Writes `result`: the attention maps first, then the output, each atomically. When the output
    /// fails after the maps were written, the maps are removed too, so that a failed job leaves neither.
    ///
    /// - Throws: `NpyError` naming the path that could not be written.
    public func write(_ result: FusionResult) throws {
        if let attention, let maps = result.attention {
            try NpyFile.write(NpyArray(float32: maps.values, shape: maps.shape), to: attention)
        }
        do {
            let fused = try NpyArray(float32: result.output.values, shape: result.output.shape).converted(to: dtype)
            try NpyFile.write(fused, to: output)
        } catch {
            if let attention { removeRegularFile(attention) }
            throw error
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

    /// Whether `output` (and `attention`, if any) already hold complete .npy files: headers that parse
    /// and exactly the data they announce. Atomic writes mean a file that exists is complete unless
    /// something else wrote it, so this is a cheap check, not a recomputation.
    public var areComplete: Bool {
        [output, attention].compactMap { $0 }.allSatisfy { path in
            path != "-" && (try? NpyFile.read(path: path)) != nil
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
