/// Drawing primitives for the renderer: rectangles and bitmap-font text, clipped to the image.
extension RGBImage {
    /// Fills the rectangle with top-left `(x, y)` and size `width × height`; parts outside the image
    /// are skipped.
    mutating func fill(x: Int, y: Int, width: Int, height: Int, with color: RGB) {
        let left = max(x, 0), right = min(x + width, self.width)
        let top = max(y, 0), bottom = min(y + height, self.height)
        guard left < right, top < bottom else { return }
        for row in top..<bottom {
            var offset = (row * self.width + left) * 3
            for _ in left..<right {
                pixels[offset] = color.red
                pixels[offset + 1] = color.green
                pixels[offset + 2] = color.blue
                offset += 3
            }
        }
    }

    /// Draws `text` with its cap box's top-left corner at `(x, y)`: each glyph is
    /// `5·scale × 7·scale` above the baseline (descenders reach `2·scale` lower), advancing `6·scale`.
    mutating func draw(_ text: String, x: Int, y: Int, scale: Int, color: RGB) {
        var penX = x
        for character in text {
            for (row, bits) in BitmapFont.rows(of: character).enumerated() where bits != 0 {
                for column in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - column)) != 0 {
                    fill(x: penX + column * scale, y: y + row * scale, width: scale, height: scale, with: color)
                }
            }
            penX += BitmapFont.advance * scale
        }
    }
}
