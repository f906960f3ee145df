/// One of N disjoint slices of a manifest: the jobs whose 0-based index i has i mod N == K.
///
/// Any scheduler that hands out an index can spread a dataset this way: a Slurm array task
/// (`--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`), a Kubernetes Indexed Job
/// (`$JOB_COMPLETION_INDEX`), or GNU parallel / `xargs -P` over `0/N … N-1/N`.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// The whole manifest.
    public static let all = Shard(uncheckedIndex: 0, count: 1)

    /// Parses "K/N".
    /// - Throws: `JobError.shard` unless 0 ≤ K < N.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n > 0, k >= 0, k < n else {
            throw JobError.shard(text)
        }
        self.init(uncheckedIndex: k, count: n)
    }

    private init(uncheckedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public func contains(jobIndex: Int) -> Bool { jobIndex % count == index }

    public var description: String { "\(index)/\(count)" }
}
