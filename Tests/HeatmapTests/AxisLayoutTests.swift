import Testing
@testable import Heatmap

@Suite struct AxisLayoutTests {
    @Test func keepsThePreferredSizeWhenItFits() {
        let axis = AxisLayout.fitting(count: 64, preferred: 16, limit: 3072, canGroup: true)
        #expect(axis == AxisLayout(count: 64, group: 1, cellSize: 16))
        #expect(axis.length == 1024)
    }

    @Test func shrinksCellsBeforeGrouping() {
        let axis = AxisLayout.fitting(count: 1024, preferred: 16, limit: 3072, canGroup: true)
        #expect(axis == AxisLayout(count: 1024, group: 1, cellSize: 3))
    }

    @Test func groupsNeighboursWhenTwoPixelCellsDoNotFit() {
        let axis = AxisLayout.fitting(count: 5000, preferred: 16, limit: 3072, canGroup: true)
        // 5000 one-pixel cells would not fit 3072 either; groups of 2 give 2500 cells (5000 px at 2 px),
        // groups of 5 give 1000 cells, drawn 3 px wide.
        #expect(axis == AxisLayout(count: 5000, group: 5, cellSize: 3))
        #expect(axis.cells == 1000)
        #expect(axis.length == 3000)
    }

    @Test func groupedCellsCoverEveryEntryOnce() {
        let axis = AxisLayout(count: 11, group: 5, cellSize: 3)
        #expect(axis.cells == 3)
        #expect(axis.entries(ofCell: 0) == 0..<5)
        #expect(axis.entries(ofCell: 2) == 10..<11)
        #expect(axis.centre(ofCell: 2) == 7)
    }

    @Test func ungroupableAxisShrinksToOnePixel() {
        let axis = AxisLayout.fitting(count: 5000, preferred: 16, limit: 1024, canGroup: false)
        #expect(axis == AxisLayout(count: 5000, group: 1, cellSize: 1))
    }

    @Test func ticksUseNiceStridesThatFit() {
        let axis = AxisLayout(count: 64, group: 1, cellSize: 16)
        #expect(axis.ticks(spacing: 30).map(\.entry) == Array(stride(from: 0, to: 64, by: 2)))
        let narrow = AxisLayout(count: 1024, group: 1, cellSize: 3)
        #expect(narrow.ticks(spacing: 56).map(\.entry).prefix(3) == [0, 20, 40])
        let grouped = AxisLayout(count: 5000, group: 5, cellSize: 3)
        let ticks = grouped.ticks(spacing: 56)
        #expect(ticks.prefix(3).map(\.entry) == [0, 100, 200])
        #expect(ticks.prefix(3).map(\.cell) == [0, 20, 40])
    }
}
