/// Painting a laid-out heatmap.
extension HeatmapLayout {
    /// The finished picture: white background, viridis cells, ink-coloured text and ticks.
    func draw() -> RGBImage {
        var image = RGBImage(width: width, height: height, fill: HeatmapLayout.background)
        for index in panels.indices {
            drawPanel(index, on: &image)
        }
        drawLegend(on: &image)
        return image
    }

    private func color(for value: Double) -> RGB {
        Viridis.color(fraction: maximum > 0 ? value / maximum : 0)
    }

    private func drawPanel(_ index: Int, on image: inout RGBImage) {
        let panel = panels[index]
        let s = scale, capHeight = BitmapFont.capHeight * scale
        let top = plotY(panel: index), rows = panel.rowAxis, columns = panel.columnAxis
        let ink = HeatmapLayout.ink

        image.draw(panel.title, x: margin, y: top - 2 * lineHeight, scale: s, color: ink)
        let captionWidth = BitmapFont.width(of: rowCaption, scale: s)
        image.draw(rowCaption, x: plotX - tickLength - labelGap - captionWidth, y: top - lineHeight, scale: s, color: ink)

        for row in 0..<rows.cells {
            for column in 0..<columns.cells {
                image.fill(x: plotX + column * columns.cellSize, y: top + row * rows.cellSize,
                           width: columns.cellSize, height: rows.cellSize,
                           with: color(for: panel.value(row: row, column: column)))
            }
        }

        for (cell, text) in rowLabels {
            let centre = top + rows.centre(ofCell: cell)
            image.fill(x: plotX - tickLength, y: centre - tickThickness / 2, width: tickLength,
                       height: tickThickness, with: ink)
            let textWidth = BitmapFont.width(of: text, scale: s)
            image.draw(text, x: plotX - tickLength - labelGap - textWidth, y: centre - capHeight / 2, scale: s, color: ink)
        }

        let bottom = top + plotHeight
        for (cell, text) in columnLabels {
            let centre = plotX + columns.centre(ofCell: cell)
            image.fill(x: centre - tickThickness / 2, y: bottom, width: tickThickness, height: tickLength, with: ink)
            let textWidth = BitmapFont.width(of: text, scale: s)
            image.draw(text, x: max(0, centre - textWidth / 2), y: bottom + tickLength + s, scale: s, color: ink)
        }
        image.draw(columnCaption, x: plotX, y: bottom + tickLength + s + lineHeight, scale: s, color: ink)
    }

    private func drawLegend(on image: inout RGBImage) {
        let s = scale, capHeight = BitmapFont.capHeight * scale, ink = HeatmapLayout.ink
        image.draw(HeatmapLayout.legendCaption, x: legendX, y: legendY - lineHeight - 2 * s, scale: s, color: ink)
        image.fill(x: legendX - 1, y: legendY - 1, width: legendWidth + 2, height: legendHeight + 2, with: ink)
        for row in 0..<legendHeight {
            let fraction = Double(legendHeight - 1 - row) / Double(legendHeight - 1)
            image.fill(x: legendX, y: legendY + row, width: legendWidth, height: 1,
                       with: Viridis.color(fraction: fraction))
        }
        let labelX = legendX + legendWidth + tickLength + labelGap
        for (value, text) in legendLabels {
            let y = legendY + legendRow(for: value)
            image.fill(x: legendX + legendWidth, y: y - tickThickness / 2, width: tickLength,
                       height: tickThickness, with: ink)
            image.draw(text, x: labelX, y: max(0, y - capHeight / 2), scale: s, color: ink)
        }
    }
}
