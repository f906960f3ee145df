import Testing
@testable import Heatmap

@Suite struct BitmapFontTests {
    @Test func everyLabelCharacterHasAGlyph() {
        let used = "0123456789abcdefghijklmnopqrstuvwxyz .,-+:/()=%×"
        for character in used {
            #expect(BitmapFont.rows(of: character) != BitmapFont.missingGlyph, "no glyph for '\(character)'")
        }
        #expect(BitmapFont.rows(of: "Q") == BitmapFont.missingGlyph)
    }

    @Test func glyphsAreDistinct() {
        var seen = [[UInt8]: Character]()
        for (character, _) in BitmapFont.pictures where character != " " {
            let rows = BitmapFont.rows(of: character)
            #expect(seen[rows] == nil, "'\(character)' looks like '\(seen[rows].map(String.init) ?? "")'")
            seen[rows] = character
        }
    }

    @Test func textWidthCountsAdvances() {
        #expect(BitmapFont.width(of: "", scale: 2) == 0)
        #expect(BitmapFont.width(of: "b0 h1", scale: 1) == 29)
        #expect(BitmapFont.width(of: "b0 h1", scale: 2) == 58)
    }

    @Test func drawingLightsExactlyTheGlyphPixels() {
        var image = RGBImage(width: 20, height: 20, fill: .white)
        image.draw("1", x: 3, y: 2, scale: 2, color: .black)
        // "1" row 0 is "..#..": column 2 lit, drawn as a 2 × 2 block at (3 + 4, 2).
        #expect(image[7, 2] == .black)
        #expect(image[8, 3] == .black)
        #expect(image[5, 2] == .white)
        // Row 6 is ".###.": columns 1...3 → x 5...10, y 14...15.
        #expect((5...10).allSatisfy { image[$0, 14] == .black })
        #expect(image[4, 14] == .white && image[11, 14] == .white)
        let inked = stride(from: 0, to: image.pixels.count, by: 3).filter { image.pixels[$0] == 0 }.count
        #expect(inked == (1 + 2 + 1 + 1 + 1 + 1 + 3) * 4)
    }

    @Test func drawingIsClippedToTheImage() {
        var image = RGBImage(width: 4, height: 4, fill: .white)
        image.draw("888", x: -2, y: -3, scale: 1, color: .black)
        image.draw("8", x: 3, y: 3, scale: 3, color: .black)
        #expect(image.width == 4 && image.pixels.count == 48)
    }
}
