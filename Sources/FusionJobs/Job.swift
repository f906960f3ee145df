/// One line of a manifest: which files to fuse and where the result goes.
public struct Job: Sendable, Equatable {
    /// 0-based position among the manifest's jobs (what `--shard` selects on).
    public var index: Int
    /// 1-based line number in the manifest, for messages.
    public var line: Int
    public var inputs: InputFiles
    public var outputs: OutputFiles

    public init(index: Int, line: Int, inputs: InputFiles, outputs: OutputFiles) {
        self.index = index
        self.line = line
        self.inputs = inputs
        self.outputs = outputs
    }
}
