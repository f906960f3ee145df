/// How `HeatmapRenderer` lays out a picture.
///
/// Sizes are in pixels. Cells shrink below `cellSize` when a plot would exceed `maxPlotWidth` or
/// `maxPlotHeight`; when even 2-pixel columns would not fit, neighbouring frames (and, per step,
/// steps) are averaged into one column (row) and the axis label says how many.
public struct HeatmapOptions: Equatable {
    /// One sample's panel (0-based), or nil for one panel per sample, top to bottom.
    public var sample: Int?
    /// Per-step maps only: one block/head, or the mean over all. Plain maps need `.average` (they show
    /// every block × head as its own row).
    public var selection: HeatmapSelection
    /// Preferred cell side, 1...256 (default 16).
    public var cellSize: Int
    /// Integer scale of the 5 × 7 font, 1...8 (default 2: 10 × 14 pixel capitals).
    public var textScale: Int
    /// Largest width of one panel's cell area, 64...65536 (default 3072: 1024 frames stay 3 px wide).
    public var maxPlotWidth: Int
    /// Largest height of one panel's cell area, 64...65536 (default 1024).
    public var maxPlotHeight: Int
    /// Most panels one picture may hold when `sample` is nil, ≥ 1 (default 16).
    public var panelLimit: Int

    /// Options with the defaults listed on each property; ranges are checked by `HeatmapRenderer.render`.
    public init(sample: Int? = nil, selection: HeatmapSelection = .average, cellSize: Int = 16,
                textScale: Int = 2, maxPlotWidth: Int = 3072, maxPlotHeight: Int = 1024, panelLimit: Int = 16) {
        self.sample = sample
        self.selection = selection
        self.cellSize = cellSize
        self.textScale = textScale
        self.maxPlotWidth = maxPlotWidth
        self.maxPlotHeight = maxPlotHeight
        self.panelLimit = panelLimit
    }

    /// Throws `HeatmapError` naming the first option outside its range.
    func validate() throws {
        try HeatmapOptions.check("cell size", cellSize, 1...256)
        try HeatmapOptions.check("text scale", textScale, 1...8)
        try HeatmapOptions.check("maximum plot width", maxPlotWidth, 64...65536)
        try HeatmapOptions.check("maximum plot height", maxPlotHeight, 64...65536)
        guard panelLimit >= 1 else { throw HeatmapError.option("panel limit", atLeast: 1, found: panelLimit) }
    }

    private static func check(_ name: String, _ value: Int, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw HeatmapError.option(name, atLeast: range.lowerBound, atMost: range.upperBound, found: value)
        }
    }
}
