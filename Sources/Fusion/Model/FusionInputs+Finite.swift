extension FusionInputs {
    /// Checks that `text`, `images` and `text_mask` hold no NaN or ±Inf, sample by sample.
    ///
    /// - Throws: ``FusionError/nonFiniteInput(input:sample:index:value:)`` for the first non-finite
    ///   element, scanning text, then images, then the mask, each in row-major order; naming the
    ///   input (and its file, from ``origins``), the sample and the full index. Also whatever reading the sources throws.
    /// - Complexity: reads every element once (vectorised: `fk_first_nonfinite`).
    public func checkFinite() throws {
        var sources: [(String, any FloatSource)] = [("text", text), ("images", images)]
        if let textMask {
            sources.append(("text_mask", textMask))
        }
        for (name, source) in sources {
            let shape = source.shape
            let perSample = shape.dropFirst().reduce(1, *)
            for b in 0..<batchSize {
                let start = b * perSample
                let bad = try source.withElements(in: start..<(start + perSample)) { values in
                    firstNonFinite(values).map { ($0, values[$0]) }
                }
                if let (offset, value) = bad {
                    throw FusionError.nonFiniteInput(
                        input: name + (origins[name].map { " (\($0))" } ?? ""), sample: b, index: unravel(start + offset, shape: shape),
                        value: value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf"))
                }
            }
        }
    }
}

/// The multi-index of flat row-major position `flat` in `shape`.
func unravel(_ flat: Int, shape: [Int]) -> [Int] {
    var index = [Int](repeating: 0, count: shape.count)
    var rest = flat
    for axis in shape.indices.reversed() where shape[axis] > 0 {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return index
}
