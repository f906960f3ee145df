extension FusionModel {
    /// Fuses a batch: the library's entry point for callers that want "the" result.
    ///
    /// Packs the weights into a ``FusionEngine`` with `options.threads` threads and runs the plan the
    /// planner picks (plan A unless `options.plan` asks otherwise). Callers that fuse several batches
    /// with one model should keep a ``FusionEngine`` instead, so that the weights are packed once.
    /// Shapes, zero rules and errors are those of ``fuseReference(_:options:)``, which stays available
    /// under its own name so that the engine can be tested against it.
    /// - Throws: whatever reading `inputs`' sources throws.
    public func fuse(_ inputs: FusionInputs, options: FusionOptions) throws -> FusionResult {
        try FusionEngine(model: self, threads: options.threads).fuse(inputs, options: options).result
    }
}
