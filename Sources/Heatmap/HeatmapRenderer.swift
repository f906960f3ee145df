/// Renders attention maps as a heatmap picture.
public enum HeatmapRenderer {
    /// Draws `maps` as one picture of stacked panels with a shared colour legend.
    ///
    /// - Plain maps `(B, N, H, T·P)`: one panel per sample (or only `options.sample`), one row per
    ///   block × head (labelled "b0 h1"), one column per frame, a cell's value being the frame's P
    ///   token weights summed.
    /// - Per-step maps `(B, T, N, H, T·P)`: one panel per sample, a step × frame image (row t = the
    ///   attention at step t, which saw frames 0...t) for `options.selection`: one block's head, or the
    ///   mean over all N × H heads.
    ///
    /// Colour: viridis over the fixed scale 0 … m, where m is the largest cell value drawn anywhere in
    /// the picture, so the most attended frame is the brightest (yellow) and a weight of 0 — a masked
    /// or not yet seen frame — draws as viridis's darkest colour. A vertical legend bar on the right
    /// shows the scale with ticks at 0, m/4, m/2, 3m/4 and m. Axis labels: frame indices below each
    /// panel; block/head or step indices on the left; a title per panel.
    ///
    /// Size: cells are `options.cellSize` pixels square unless a panel's cell area would exceed
    /// `maxPlotWidth × maxPlotHeight`; then they shrink, and past 2-pixel cells neighbouring frames
    /// (per-step: frames and steps) are averaged into one cell, which the axis caption states
    /// ("mean of 5 frames per column"). With the defaults 1024 frames draw 3 px wide: 3072 px of
    /// cells, 3375 px with labels and legend (4 blocks × 8 heads).
    ///
    /// - Throws: `HeatmapError` when an option is out of range, `options.sample` is not a sample,
    ///   a selected block or head is out of range, a block/head selection is given for plain maps, or
    ///   more than `options.panelLimit` panels would be drawn.
    /// - Complexity: O(maps.values.count + pixels).
    public static func render(_ maps: AttentionMaps, options: HeatmapOptions = HeatmapOptions()) throws -> RGBImage {
        let panels = try makePanels(maps, options: options)
        let layout = HeatmapLayout(panels: panels, options: options, isPerStep: maps.perStep,
                                   heads: maps.heads)
        return layout.draw()
    }

    /// Checks `options` against `maps` and reduces the maps to the panels to draw.
    static func makePanels(_ maps: AttentionMaps, options: HeatmapOptions) throws -> [HeatmapPanel] {
        try options.validate()
        let samples: [Int]
        if let sample = options.sample {
            guard (0..<maps.samples).contains(sample) else {
                throw HeatmapError.outOfRange("sample", sample, count: maps.samples)
            }
            samples = [sample]
        } else {
            guard maps.samples <= options.panelLimit else {
                throw HeatmapError.tooManyPanels(maps.samples, limit: options.panelLimit)
            }
            samples = Array(0..<maps.samples)
        }
        if case let .block(block, head) = options.selection {
            guard maps.perStep else { throw HeatmapError.selectionOnPlainMaps }
            guard (0..<maps.blocks).contains(block) else {
                throw HeatmapError.outOfRange("block", block, count: maps.blocks)
            }
            guard (0..<maps.heads).contains(head) else {
                throw HeatmapError.outOfRange("head", head, count: maps.heads)
            }
        }

        if maps.perStep {
            let axis = AxisLayout.fitting(count: maps.frames, preferred: options.cellSize,
                                          limit: min(options.maxPlotWidth, options.maxPlotHeight), canGroup: true)
            return samples.map {
                HeatmapPanel.perStep(maps, sample: $0, selection: options.selection, rowAxis: axis, columnAxis: axis)
            }
        }
        let rows = AxisLayout.fitting(count: maps.blocks * maps.heads, preferred: options.cellSize,
                                      limit: options.maxPlotHeight, canGroup: false)
        let columns = AxisLayout.fitting(count: maps.frames, preferred: options.cellSize,
                                         limit: options.maxPlotWidth, canGroup: true)
        return samples.map { HeatmapPanel.plain(maps, sample: $0, rowAxis: rows, columnAxis: columns) }
    }
}
