import Testing
@testable import Heatmap

@Suite struct ViridisTests {
    @Test func tableHasMatplotlibsEndpoints() {
        #expect(Viridis.table.count == 256)
        #expect(Viridis.table[0] == RGB(68, 1, 84))      // #440154
        #expect(Viridis.table[128] == RGB(33, 145, 140)) // #21918c
        #expect(Viridis.table[255] == RGB(253, 231, 37)) // #fde725
    }

    @Test func luminanceRisesAcrossTheScale() {
        let luminance = Viridis.table.map(\.luminance)
        // 8-bit rounding can leave neighbours equal or a hair apart; two steps apart it strictly rises.
        for index in 0..<254 {
            #expect(luminance[index] < luminance[index + 2], "viridis \(index) vs \(index + 2)")
            #expect(luminance[index + 1] > luminance[index] - 0.001, "viridis \(index) vs \(index + 1)")
        }
        #expect(luminance.firstIndex(of: luminance.max()!) == 255)
        #expect(luminance.firstIndex(of: luminance.min()!) == 0)
    }

    @Test func fractionMapsToTheRoundedIndex() {
        #expect(Viridis.color(fraction: 0) == Viridis.table[0])
        #expect(Viridis.color(fraction: 1) == Viridis.table[255])
        #expect(Viridis.color(fraction: 0.5) == Viridis.table[128])  // 127.5 rounds up
        #expect(Viridis.color(fraction: 0.25) == Viridis.table[64])  // 63.75
        #expect(Viridis.color(fraction: -3) == Viridis.table[0])
        #expect(Viridis.color(fraction: 7) == Viridis.table[255])
        #expect(Viridis.color(fraction: .nan) == Viridis.table[0])
    }
}
