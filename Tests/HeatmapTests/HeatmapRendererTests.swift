import Foundation
import Testing
@testable import Heatmap

@Suite struct HeatmapRendererTests {
    // Two samples, 2 blocks × 3 heads, 10 frames of 2 tokens; sample 0 sees all frames and favours 3,
    // sample 1 sees 6 frames and favours 5.
    private func plainMaps() throws -> AttentionMaps {
        let fixture = AttentionFixtures.plain(blocks: 2, heads: 3, frames: 10, tokensPerFrame: 2,
                                              lengths: [10, 6], favourite: [3, 5])
        return try AttentionMaps(values: fixture.values, shape: fixture.shape, tokensPerFrame: 2, perStep: false)
    }

    /// Renders, encodes, decodes with the test decoder, and checks the decoded pixels equal the image.
    private func renderThroughPNG(_ maps: AttentionMaps, _ options: HeatmapOptions = HeatmapOptions())
        throws -> RenderedPicture {
        let picture = try RenderedPicture(maps, options: options)
        let decoded = try PNGDecoder.decode(PNGEncoder.encode(picture.image))
        #expect(decoded.width == picture.image.width)
        #expect(decoded.height == picture.image.height)
        #expect(decoded.pixels == picture.image.pixels)
        return picture
    }

    private func renderError(_ maps: AttentionMaps, _ options: HeatmapOptions) -> String? {
        do {
            _ = try HeatmapRenderer.render(maps, options: options)
            return nil
        } catch let error as HeatmapError {
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func plainCellsFollowTheWeights() throws {
        let maps = try plainMaps()
        let picture = try renderThroughPNG(maps)
        #expect(picture.layout.panels.count == 2)
        #expect(picture.layout.plotWidth == 10 * 16)
        #expect(picture.layout.plotHeight == 6 * 16)
        let maximum = (0..<2).flatMap { b in (0..<6).flatMap { r in (0..<10).map { f in
            maps.frameWeight(sample: b, step: 0, block: r / 3, head: r % 3, frame: f)
        } } }.max()!
        for sample in 0..<2 {
            for row in 0..<6 {
                for frame in 0..<10 {
                    let weight = maps.frameWeight(sample: sample, step: 0, block: row / 3, head: row % 3, frame: frame)
                    let expected = Viridis.color(fraction: weight / maximum)
                    #expect(picture.cell(panel: sample, row: row, column: frame) == expected,
                            "sample \(sample) row \(row) frame \(frame)")
                    #expect(picture.cellIsUniform(panel: sample, row: row, column: frame))
                }
            }
        }
    }

    @Test func mostAttendedFrameIsTheBrightestColumn() throws {
        let picture = try renderThroughPNG(try plainMaps())
        for (sample, favourite) in [(0, 3), (1, 5)] {
            let columnLuminance = (0..<10).map { frame in
                (0..<6).map { picture.cell(panel: sample, row: $0, column: frame).luminance }.reduce(0, +)
            }
            #expect(columnLuminance.firstIndex(of: columnLuminance.max()!) == favourite, "sample \(sample)")
            for row in 0..<6 {
                let brightest = (0..<10).max { picture.cell(panel: sample, row: row, column: $0).luminance
                    < picture.cell(panel: sample, row: row, column: $1).luminance }
                #expect(brightest == favourite, "sample \(sample) row \(row)")
            }
        }
        // The largest weight of the picture is exactly the top of the scale.
        let indices = (0..<2).flatMap { b in (0..<6).flatMap { r in (0..<10).map {
            RenderedPicture.viridisIndex(of: picture.cell(panel: b, row: r, column: $0))
        } } }
        #expect(indices.contains(255))
        #expect(!indices.contains(nil))
    }

    @Test func maskedFramesDrawAsTheZeroColour() throws {
        let picture = try renderThroughPNG(try plainMaps())
        for row in 0..<6 {
            for frame in 6..<10 {
                #expect(picture.cell(panel: 1, row: row, column: frame) == Viridis.table[0], "row \(row) frame \(frame)")
                #expect(picture.cellIsUniform(panel: 1, row: row, column: frame))
            }
            for frame in 0..<6 {
                #expect(picture.cell(panel: 1, row: row, column: frame) != Viridis.table[0], "row \(row) frame \(frame)")
            }
        }
    }

    @Test func legendRunsFromZeroToTheMaximum() throws {
        let picture = try renderThroughPNG(try plainMaps())
        let layout = picture.layout
        let x = layout.legendX + layout.legendWidth / 2
        let column = (0..<layout.legendHeight).map { picture.image[x, layout.legendY + $0] }
        #expect(column.first == Viridis.table[255])
        #expect(column.last == Viridis.table[0])
        let indices = column.compactMap(RenderedPicture.viridisIndex(of:))
        #expect(indices.count == layout.legendHeight)
        #expect(zip(indices, indices.dropFirst()).allSatisfy { $0 >= $1 }, "legend index falls from top to bottom")
        #expect(Set(indices).count > 90)
        // Ticks: 0 at the bottom, the maximum at the top, as text to the right of the bar.
        #expect(layout.legendLabels.map(\.text).first == "0")
        #expect(layout.legendLabels.count == 5)
        #expect(layout.legendRow(for: layout.maximum) == 0)
        #expect(layout.legendRow(for: 0) == layout.legendHeight - 1)
        let maximumText = layout.legendLabels.last!.text
        #expect(maximumText == HeatmapLayout.format(layout.maximum))
        let textInk = (layout.legendY - 8..<layout.legendY + 8).contains { y in
            (layout.legendX + layout.legendWidth + 1..<layout.width).contains { picture.image[$0, y] == HeatmapLayout.ink }
        }
        #expect(textInk, "the maximum's tick label is drawn beside the top of the bar")
    }

    @Test func labelsNameEveryRowAndSomeFrames() throws {
        let picture = try renderThroughPNG(try plainMaps())
        let layout = picture.layout
        #expect(layout.rowLabels.map(\.text) == ["b0 h0", "b0 h1", "b0 h2", "b1 h0", "b1 h1", "b1 h2"])
        // "9" is 10 px wide; with 8 px between labels they need 18 px, more than one 16 px cell.
        #expect(layout.columnLabels.map(\.text) == ["0", "2", "4", "6", "8"])
        #expect(layout.rowCaption == "block/head")
        #expect(layout.columnCaption == "frame")
        #expect(layout.panels.map(\.title) == ["sample 0, 2 tokens per frame summed",
                                               "sample 1, 2 tokens per frame summed"])
        // Ink left of the cells in each row (its label) and below the cells (frame numbers).
        for row in 0..<6 {
            let y = layout.plotY(panel: 0) + row * 16 + 8
            #expect((0..<layout.plotX).contains { picture.image[$0, y] == HeatmapLayout.ink }, "label of row \(row)")
        }
        let below = layout.plotY(panel: 0) + layout.plotHeight + layout.tickLength + 4
        #expect((layout.plotX..<layout.plotX + layout.plotWidth).contains { picture.image[$0, below] == HeatmapLayout.ink })
    }

    @Test func oneSampleGivesOnePanel() throws {
        let maps = try plainMaps()
        let all = try RenderedPicture(maps)
        let one = try RenderedPicture(maps, options: HeatmapOptions(sample: 1))
        #expect(one.layout.panels.count == 1)
        #expect(one.image.height < all.image.height)
        #expect(one.layout.panels[0].title.hasPrefix("sample 1"))
        // The scale is the drawn maximum: sample 1's own brightest cell reaches the top colour.
        let indices = (0..<6).flatMap { r in (0..<10).map {
            RenderedPicture.viridisIndex(of: one.cell(panel: 0, row: r, column: $0))
        } }
        #expect(indices.contains(255))
    }

    @Test func perStepShowsStepByFrameForOneHead() throws {
        let fixture = AttentionFixtures.perStep(blocks: 2, heads: 2, frames: 6, length: 4, focus: (1, 1))
        let maps = try AttentionMaps(values: fixture.values, shape: fixture.shape, tokensPerFrame: 1, perStep: true)
        let picture = try renderThroughPNG(maps, HeatmapOptions(selection: .block(1, head: 1)))
        #expect(picture.layout.panels[0].title == "sample 0, block 1 head 1")
        #expect(picture.layout.rowCaption == "step")
        #expect(picture.layout.plotWidth == 6 * 16 && picture.layout.plotHeight == 6 * 16)
        for step in 0..<6 {
            for frame in 0..<6 {
                let color = picture.cell(panel: 0, row: step, column: frame)
                if step >= 4 || frame > step {
                    #expect(color == Viridis.table[0], "step \(step) frame \(frame): unseen or past the length")
                }
            }
            if step < 4 {
                // The focused head attends most to the newest frame.
                let brightest = (0...step).max { picture.cell(panel: 0, row: step, column: $0).luminance
                    < picture.cell(panel: 0, row: step, column: $1).luminance }
                #expect(brightest == step, "step \(step)")
            }
        }
        // Step 0 puts all weight on frame 0: the picture's maximum, the top colour.
        #expect(picture.cell(panel: 0, row: 0, column: 0) == Viridis.table[255])
    }

    @Test func perStepAverageIsTheMeanOverHeads() throws {
        let fixture = AttentionFixtures.perStep(blocks: 2, heads: 2, frames: 6, length: 4, focus: (1, 1))
        let maps = try AttentionMaps(values: fixture.values, shape: fixture.shape, tokensPerFrame: 1, perStep: true)
        let picture = try renderThroughPNG(maps)
        #expect(picture.layout.panels[0].title == "sample 0, mean of 2 blocks × 2 heads")
        func mean(_ step: Int, _ frame: Int) -> Double {
            (0..<4).map { maps.frameWeight(sample: 0, step: step, block: $0 / 2, head: $0 % 2, frame: frame) }
                .reduce(0, +) / 4
        }
        let maximum = (0..<6).flatMap { t in (0..<6).map { mean(t, $0) } }.max()!
        #expect(maximum == 1)  // step 0: every head has only frame 0
        for step in 0..<6 {
            for frame in 0..<6 {
                #expect(picture.cell(panel: 0, row: step, column: frame) == Viridis.color(fraction: mean(step, frame)),
                        "step \(step) frame \(frame)")
            }
        }
    }

    @Test func longHistoriesStayNarrow() throws {
        // W3-like: 1024 frames of 4 tokens, 4 blocks × 8 heads; uniform weights.
        let tokens = 1024 * 4
        let values = [Float](repeating: 1 / Float(tokens), count: 4 * 8 * tokens)
        let maps = try AttentionMaps(values: values, shape: [1, 4, 8, tokens], tokensPerFrame: 4, perStep: false)
        let picture = try RenderedPicture(maps)
        #expect(picture.layout.plotWidth == 3072)
        #expect(picture.layout.panels[0].columnAxis.group == 1)
        #expect(picture.image.width < 4000)
        #expect(picture.layout.columnCaption == "frame")
        print("1024 frames × 32 rows: \(picture.image.width) × \(picture.image.height) px")
    }

    @Test func veryLongHistoriesAverageNeighbouringFrames() throws {
        // 5000 frames, one block and head: weight of frame f is proportional to f % 7.
        let raw = (0..<5000).map { Float($0 % 7) }
        let total = raw.reduce(0, +)
        let maps = try AttentionMaps(values: raw.map { $0 / total }, shape: [1, 1, 1, 5000], tokensPerFrame: 1,
                                     perStep: false)
        let picture = try RenderedPicture(maps)
        let columns = picture.layout.panels[0].columnAxis
        #expect(columns.group == 5)
        #expect(columns.cells == 1000)
        #expect(picture.image.width < 4000)
        #expect(picture.layout.columnCaption == "frame (mean of 5 frames per column)")
        let means = (0..<1000).map { cell in (0..<5).map { Double(raw[cell * 5 + $0] / total) }.reduce(0, +) / 5 }
        let maximum = means.max()!
        for cell in [0, 1, 2, 500, 999] {
            let expected = Viridis.color(fraction: picture.layout.panels[0].value(row: 0, column: cell) / maximum)
            #expect(abs(picture.layout.panels[0].value(row: 0, column: cell) - means[cell]) < 1e-9)
            #expect(picture.cell(panel: 0, row: 0, column: cell) == expected, "column \(cell)")
        }
    }

    @Test func longPerStepMapsAverageStepsAndFrames() throws {
        let frames = 1000
        var values = [Float](repeating: 0, count: frames * frames)
        for step in 0..<frames {
            for frame in 0...step { values[step * frames + frame] = 1 / Float(step + 1) }
        }
        let maps = try AttentionMaps(values: values, shape: [1, frames, 1, 1, frames], tokensPerFrame: 1, perStep: true)
        let picture = try RenderedPicture(maps)
        let axis = picture.layout.panels[0].columnAxis
        #expect(axis.group == 2 && axis.cellSize == 2)
        #expect(picture.layout.panels[0].rowAxis == axis)
        #expect(picture.layout.columnCaption == "frame (mean of 2 frames × 2 steps per cell)")
        #expect(picture.image.width < 1500 && picture.image.height < 1300)
    }

    @Test func indexErrorsNameTheRange() throws {
        let plain = try plainMaps()
        #expect(renderError(plain, HeatmapOptions(sample: 2)) ==
            "sample 2 is out of range: the maps hold 2 samples (0...1)")
        #expect(renderError(plain, HeatmapOptions(sample: -1)) ==
            "sample -1 is out of range: the maps hold 2 samples (0...1)")
        #expect(renderError(plain, HeatmapOptions(selection: .block(0, head: 0))) ==
            "a block/head selection applies to per-step maps only; plain maps show every block × head as a row")

        let fixture = AttentionFixtures.perStep(blocks: 2, heads: 2, frames: 3, length: 3, focus: (0, 0))
        let steps = try AttentionMaps(values: fixture.values, shape: fixture.shape, tokensPerFrame: 1, perStep: true)
        #expect(renderError(steps, HeatmapOptions(selection: .block(2, head: 0))) ==
            "block 2 is out of range: the maps hold 2 blocks (0...1)")
        #expect(renderError(steps, HeatmapOptions(selection: .block(1, head: 5))) ==
            "head 5 is out of range: the maps hold 2 heads (0...1)")
        #expect(renderError(steps, HeatmapOptions(sample: 1)) ==
            "sample 1 is out of range: the maps hold 1 sample (0...0)")
    }

    @Test func optionErrorsNameTheOption() throws {
        let plain = try plainMaps()
        #expect(renderError(plain, HeatmapOptions(cellSize: 0)) == "cell size must be between 1 and 256; found 0")
        #expect(renderError(plain, HeatmapOptions(textScale: 9)) == "text scale must be between 1 and 8; found 9")
        #expect(renderError(plain, HeatmapOptions(maxPlotWidth: 10)) ==
            "maximum plot width must be between 64 and 65536; found 10")
        #expect(renderError(plain, HeatmapOptions(panelLimit: 0)) == "panel limit must be at least 1; found 0")
        #expect(renderError(plain, HeatmapOptions(panelLimit: 1)) ==
            "2 panels (one per sample) exceed the limit of 1; choose one sample or raise the panel limit")
        #expect(renderError(plain, HeatmapOptions(sample: 0, panelLimit: 1)) == nil)
    }

    @Test func writesExamplePictures() throws {
        let directory = FileManager.default.temporaryDirectory
        let plain = try HeatmapRenderer.render(try plainMaps())
        let plainFile = directory.appendingPathComponent("fusectl-heatmap-plain.png")
        try Data(PNGEncoder.encode(plain)).write(to: plainFile)
        let fixture = AttentionFixtures.perStep(blocks: 2, heads: 2, frames: 24, length: 20, focus: (1, 0))
        let maps = try AttentionMaps(values: fixture.values, shape: fixture.shape, tokensPerFrame: 1, perStep: true)
        let perStep = try HeatmapRenderer.render(maps, options: HeatmapOptions(selection: .block(1, head: 0)))
        let perStepFile = directory.appendingPathComponent("fusectl-heatmap-per-step.png")
        try Data(PNGEncoder.encode(perStep)).write(to: perStepFile)
        print("wrote \(plainFile.path) (\(plain.width) × \(plain.height)) and \(perStepFile.path) "
              + "(\(perStep.width) × \(perStep.height))")
        #expect(try PNGDecoder.decode(Array(Data(contentsOf: plainFile))).pixels == plain.pixels)
    }

    @Test func pythonReadsTheRenderedPicture() throws {
        let python = try PythonPNGCheck.python3()
        let picture = try RenderedPicture(try plainMaps())
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("heatmap-python-render-\(ProcessInfo.processInfo.processIdentifier).png")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(PNGEncoder.encode(picture.image)).write(to: file)
        let layout = picture.layout
        // Centres of sample 0's favourite column (3) and a masked cell of sample 1 (frame 8).
        let points = [(x: layout.plotX + 3 * 16 + 8, y: layout.plotY(panel: 0) + 8),
                      (x: layout.plotX + 8 * 16 + 8, y: layout.plotY(panel: 1) + 8)]
        let result = try PythonPNGCheck.decode(file: file, pixels: points, python: python)
        #expect(Array(result.prefix(2)) == [picture.image.width, picture.image.height])
        let favourite = picture.cell(panel: 0, row: 0, column: 3), masked = Viridis.table[0]
        let expected: [Int] = [favourite, masked].flatMap { (color: RGB) -> [Int] in
            [Int(color.red), Int(color.green), Int(color.blue)]
        }
        #expect(Array(result.dropFirst(2)) == expected)
    }

    @Test func smallestMapsStillGetALegibleLayout() throws {
        let maps = try AttentionMaps(values: [1], shape: [1, 1, 1, 1])
        let picture = try renderThroughPNG(maps, HeatmapOptions(textScale: 1))
        #expect(picture.cell(panel: 0, row: 0, column: 0) == Viridis.table[255])
        #expect(picture.layout.legendHeight == 40)
        #expect(picture.image.height >= picture.layout.legendY + 40)
        #expect(picture.layout.rowLabels.map(\.text) == ["b0 h0"])
        #expect(picture.layout.columnLabels.map(\.text) == ["0"])
    }

    @Test func allZeroMapsDrawTheZeroColour() throws {
        // A per-step sample whose steps are all past its length: every weight 0, scale maximum 0.
        let maps = try AttentionMaps(values: [Float](repeating: 0, count: 9), shape: [1, 3, 1, 1, 3])
        let picture = try renderThroughPNG(maps)
        #expect(picture.layout.maximum == 0)
        #expect(picture.layout.legendLabels.map(\.text) == ["0"])
        for step in 0..<3 {
            for frame in 0..<3 {
                #expect(picture.cell(panel: 0, row: step, column: frame) == Viridis.table[0])
            }
        }
    }
}
