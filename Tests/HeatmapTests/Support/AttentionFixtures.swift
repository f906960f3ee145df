@testable import Heatmap

/// Hand-made attention maps with known structure.
enum AttentionFixtures {
    /// Plain maps `(B, N, H, T·P)` where sample b attends only to frames `0..<lengths[b]`, every row of
    /// sample b gives frame `favourite[b]` the most weight, and each row's weights sum to 1.
    ///
    /// Raw (unnormalised) weight of token p of frame f in row (n, h): `1 + f + n + 2h + p` for valid
    /// frames, plus 40 on the favourite frame; 0 for masked frames.
    static func plain(blocks: Int, heads: Int, frames: Int, tokensPerFrame: Int,
                      lengths: [Int], favourite: [Int]) -> (values: [Float], shape: [Int]) {
        let tokens = frames * tokensPerFrame
        var values = [Float]()
        for (sample, length) in lengths.enumerated() {
            for block in 0..<blocks {
                for head in 0..<heads {
                    var row = [Float](repeating: 0, count: tokens)
                    for frame in 0..<length {
                        for p in 0..<tokensPerFrame {
                            let bonus: Float = frame == favourite[sample] ? 40 : 0
                            row[frame * tokensPerFrame + p] = Float(1 + frame + block + 2 * head + p) + bonus
                        }
                    }
                    let total = row.reduce(0, +)
                    values += row.map { $0 / total }
                }
            }
        }
        return (values, [lengths.count, blocks, heads, tokens])
    }

    /// Per-step maps `(B, T, N, H, T)` (P = 1) for one sample with `length` valid frames: at step t < length,
    /// block n head h spreads weight over frames 0...t with raw weight `1 + f + n + h`, except that
    /// block `focus.block` head `focus.head` puts raw weight 50 on frame t (the newest); steps ≥ length are 0.
    static func perStep(blocks: Int, heads: Int, frames: Int, length: Int,
                        focus: (block: Int, head: Int)) -> (values: [Float], shape: [Int]) {
        var values = [Float]()
        for step in 0..<frames {
            for block in 0..<blocks {
                for head in 0..<heads {
                    var row = [Float](repeating: 0, count: frames)
                    if step < length {
                        for frame in 0...step {
                            row[frame] = Float(1 + frame + block + head)
                        }
                        if (block, head) == focus { row[step] = 50 }
                        let total = row.reduce(0, +)
                        row = row.map { $0 / total }
                    }
                    values += row
                }
            }
        }
        return (values, [1, frames, blocks, heads, frames])
    }
}

/// Reads back what a rendered picture shows, using the layout the renderer used.
struct RenderedPicture {
    let image: RGBImage
    let layout: HeatmapLayout

    init(_ maps: AttentionMaps, options: HeatmapOptions = HeatmapOptions()) throws {
        image = try HeatmapRenderer.render(maps, options: options)
        let panels = try HeatmapRenderer.makePanels(maps, options: options)
        layout = HeatmapLayout(panels: panels, options: options, isPerStep: maps.perStep, heads: maps.heads)
    }

    /// The colour at the centre of cell (row, column) of panel `panel`.
    func cell(panel: Int, row: Int, column: Int) -> RGB {
        let axes = layout.panels[panel]
        return image[layout.plotX + axes.columnAxis.centre(ofCell: column),
                     layout.plotY(panel: panel) + axes.rowAxis.centre(ofCell: row)]
    }

    /// Every pixel of the cell is the same colour (no text or tick drawn over data).
    func cellIsUniform(panel: Int, row: Int, column: Int) -> Bool {
        let axes = layout.panels[panel]
        let x0 = layout.plotX + column * axes.columnAxis.cellSize
        let y0 = layout.plotY(panel: panel) + row * axes.rowAxis.cellSize
        let first = image[x0, y0]
        for y in y0..<(y0 + axes.rowAxis.cellSize) {
            for x in x0..<(x0 + axes.columnAxis.cellSize) where image[x, y] != first {
                return false
            }
        }
        return true
    }

    /// The viridis index of a colour, or nil when it is not a viridis colour.
    static func viridisIndex(of color: RGB) -> Int? {
        Viridis.table.firstIndex(of: color)
    }
}
