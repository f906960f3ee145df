/// One panel's data after reduction and binning: a `rows × columns` grid of weights with its labels.
struct HeatmapPanel {
    /// Panel heading, e.g. "sample 0" or "sample 2, block 1 head 3".
    let title: String
    /// Vertical axis: block × head rows (plain) or steps (per-step).
    let rowAxis: AxisLayout
    /// Horizontal axis: frames.
    let columnAxis: AxisLayout
    /// `rowAxis.cells × columnAxis.cells` cell values, row-major.
    let values: [Double]

    var maximum: Double { values.max() ?? 0 }

    func value(row: Int, column: Int) -> Double {
        values[row * columnAxis.cells + column]
    }
}

extension HeatmapPanel {
    /// Plain maps, one sample: row `n·H + h` is block n's head h; a cell holds the mean over its frames
    /// of each frame's summed token weights.
    static func plain(_ maps: AttentionMaps, sample: Int, rowAxis: AxisLayout, columnAxis: AxisLayout) -> HeatmapPanel {
        var values = [Double](repeating: 0, count: rowAxis.cells * columnAxis.cells)
        for row in 0..<rowAxis.cells {
            let (block, head) = row.quotientAndRemainder(dividingBy: maps.heads)
            for column in 0..<columnAxis.cells {
                let frames = columnAxis.entries(ofCell: column)
                var sum = 0.0
                for frame in frames {
                    sum += maps.frameWeight(sample: sample, step: 0, block: block, head: head, frame: frame)
                }
                values[row * columnAxis.cells + column] = sum / Double(frames.count)
            }
        }
        let tokens = maps.tokensPerFrame > 1 ? ", \(maps.tokensPerFrame) tokens per frame summed" : ""
        return HeatmapPanel(title: "sample \(sample)\(tokens)", rowAxis: rowAxis, columnAxis: columnAxis,
                            values: values)
    }

    /// Per-step maps, one sample: row = step, column = frame; a cell holds the mean over its steps and
    /// frames of the selected head's summed token weights (or of the mean over all N·H heads).
    static func perStep(_ maps: AttentionMaps, sample: Int, selection: HeatmapSelection,
                        rowAxis: AxisLayout, columnAxis: AxisLayout) -> HeatmapPanel {
        let heads: [(block: Int, head: Int)]
        let what: String
        switch selection {
        case let .block(block, head):
            heads = [(block, head)]
            what = "block \(block) head \(head)"
        case .average:
            heads = (0..<maps.blocks).flatMap { n in (0..<maps.heads).map { h in (n, h) } }
            what = "mean of \(maps.blocks) blocks × \(maps.heads) heads"
        }
        var values = [Double](repeating: 0, count: rowAxis.cells * columnAxis.cells)
        for row in 0..<rowAxis.cells {
            let steps = rowAxis.entries(ofCell: row)
            for column in 0..<columnAxis.cells {
                let frames = columnAxis.entries(ofCell: column)
                var sum = 0.0
                for step in steps {
                    for frame in frames {
                        for (block, head) in heads {
                            sum += maps.frameWeight(sample: sample, step: step, block: block, head: head, frame: frame)
                        }
                    }
                }
                values[row * columnAxis.cells + column] = sum / Double(steps.count * frames.count * heads.count)
            }
        }
        let tokens = maps.tokensPerFrame > 1 ? ", \(maps.tokensPerFrame) tokens per frame summed" : ""
        return HeatmapPanel(title: "sample \(sample), \(what)\(tokens)", rowAxis: rowAxis,
                            columnAxis: columnAxis, values: values)
    }
}
