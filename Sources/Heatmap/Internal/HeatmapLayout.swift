import Foundation

/// Where everything of a heatmap picture goes, in pixels; `draw()` paints it.
///
/// Panels are stacked top to bottom, each with the same geometry:
/// ```
///  title                                   | weight
///        block/head                        |  ___
///   b0 h0 -|cells cells cells cells cells| | |   |- 0.5
///   b0 h1 -|cells cells cells cells cells| | |   |
///           |    |    |    |                 |   |- 0
///           0    5    10   15
///           frame
/// ```
/// The legend bar sits right of the first panel's cells, as tall as they are (at least 40 text pixels).
struct HeatmapLayout {
    let panels: [HeatmapPanel]
    let scale: Int
    /// Scale maximum m: the largest cell value of all panels (0 when every cell is 0).
    let maximum: Double

    let rowCaption: String
    let columnCaption: String
    /// `(cell, text)` of the labelled rows and columns.
    let rowLabels: [(cell: Int, text: String)]
    let columnLabels: [(cell: Int, text: String)]
    /// `(value, text)` of the legend ticks, bottom (0) first.
    let legendLabels: [(value: Double, text: String)]

    /// `labelGap`: space between a tick mark and its label.
    let margin: Int, lineHeight: Int, tickLength: Int, tickThickness: Int, labelGap: Int
    /// Left edge of every panel's cell area.
    let plotX: Int
    let plotWidth: Int, plotHeight: Int
    /// Vertical distance from one panel's top to the next one's.
    let panelHeight: Int
    let legendX: Int, legendY: Int, legendWidth: Int, legendHeight: Int
    let width: Int, height: Int

    static let background = RGB.white
    static let ink = RGB(20, 20, 20)
    static let legendCaption = "weight"

    init(panels: [HeatmapPanel], options: HeatmapOptions, isPerStep: Bool, heads: Int) {
        precondition(!panels.isEmpty, "a heatmap needs at least one panel")
        self.panels = panels
        let s = options.textScale
        scale = s
        maximum = panels.map(\.maximum).max() ?? 0
        let rows = panels[0].rowAxis, columns = panels[0].columnAxis

        margin = 8 * s
        lineHeight = 12 * s
        tickLength = 3 * s
        tickThickness = max(1, s / 2)
        labelGap = 3 * s
        let capHeight = BitmapFont.capHeight * s

        if isPerStep {
            rowCaption = "step"
            rowLabels = rows.ticks(spacing: 2 * capHeight).map { ($0.cell, String($0.entry)) }
            columnCaption = columns.group > 1
                ? "frame (mean of \(columns.group) frames × \(rows.group) steps per cell)" : "frame"
        } else {
            rowCaption = "block/head"
            rowLabels = HeatmapLayout.blockHeadTicks(rows: rows, heads: heads, spacing: capHeight + s)
            columnCaption = columns.group > 1 ? "frame (mean of \(columns.group) frames per column)" : "frame"
        }
        let widestColumnLabel = BitmapFont.width(of: String(columns.count - 1), scale: s)
        columnLabels = columns.ticks(spacing: widestColumnLabel + 4 * s).map { ($0.cell, String($0.entry)) }
        let maximum = self.maximum
        legendLabels = maximum > 0
            ? [0, 0.25, 0.5, 0.75, 1].map { (maximum * $0, HeatmapLayout.format(maximum * $0)) }
            : [(0, "0")]

        let rowLabelWidth = (rowLabels.map(\.text) + [rowCaption]).map { BitmapFont.width(of: $0, scale: s) }.max()!
        plotX = margin + rowLabelWidth + labelGap + tickLength
        plotWidth = columns.length
        plotHeight = rows.length
        panelHeight = 4 * lineHeight + plotHeight + tickLength + s + margin

        legendX = plotX + plotWidth + max(8 * s, widestColumnLabel / 2 + 4 * s)
        legendY = margin + 2 * lineHeight
        legendWidth = 6 * s
        legendHeight = max(plotHeight, 40 * s)
        let legendTextWidth = (legendLabels.map(\.text) + [HeatmapLayout.legendCaption])
            .map { BitmapFont.width(of: $0, scale: s) }.max()!
        let titleWidth = panels.map { BitmapFont.width(of: $0.title, scale: s) }.max()!
        width = max(legendX + legendWidth + tickLength + labelGap + legendTextWidth + margin,
                    margin + titleWidth + margin,
                    plotX + BitmapFont.width(of: columnCaption, scale: s) + margin)
        height = max(margin + panels.count * panelHeight, legendY + legendHeight + capHeight + margin)
    }

    /// Top of panel `index`'s cell area.
    func plotY(panel index: Int) -> Int {
        margin + index * panelHeight + 2 * lineHeight
    }

    /// Row of the legend bar (from its top) whose colour stands for `value`.
    func legendRow(for value: Double) -> Int {
        guard maximum > 0 else { return legendHeight - 1 }
        return Int(((1 - value / maximum) * Double(legendHeight - 1)).rounded())
    }

    /// Plain maps' rows: strides that divide H, then whole blocks, so labels line up with blocks.
    private static func blockHeadTicks(rows: AxisLayout, heads: Int, spacing: Int) -> [(cell: Int, text: String)] {
        let divisors = (1...heads).filter { heads % $0 == 0 }
        let candidates = divisors + NiceNumbers.sequence.map { $0 * heads }
        let stride = candidates.first { $0 * rows.cellSize >= spacing } ?? rows.count
        return Swift.stride(from: 0, to: rows.count, by: stride).map { row in
            (cell: row, text: "b\(row / heads) h\(row % heads)")
        }
    }

    /// Three significant digits, as C's `%.3g` ("0.25", "0.0123", "1e-05").
    static func format(_ value: Double) -> String {
        value == 0 ? "0" : String(format: "%.3g", value)
    }
}
