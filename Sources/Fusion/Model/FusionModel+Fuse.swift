extension FusionModel {
    /// Fuses a batch: the library's entry point for callers that want "the" result.
    ///
    /// Today this runs ``fuseReference(_:options:)``. Faster exact paths (the performance issue's
    /// planner) plug in here, choosing a plan per call; the reference stays available under its own
    /// name so that they can be tested against it. Shapes, zero rules and errors are those of
    /// ``fuseReference(_:options:)``.
    public func fuse(_ inputs: FusionInputs, options: FusionOptions) throws -> FusionResult {
        try fuseReference(inputs, options: options)
    }
}
