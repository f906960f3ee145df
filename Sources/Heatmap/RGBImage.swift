import Foundation

/// An 8-bit RGB raster: `width × height` pixels, row-major from the top-left corner, three bytes
/// (red, green, blue) per pixel, no padding between rows.
///
/// The byte of channel `c` of pixel `(x, y)` is `pixels[(y * width + x) * 3 + c]`.
public struct RGBImage: Equatable {
    /// Pixels per row (≥ 1).
    public let width: Int
    /// Rows (≥ 1).
    public let height: Int
    /// `width * height * 3` bytes, RGB8, row-major.
    public var pixels: [UInt8]

    /// An image filled with one colour.
    ///
    /// - Precondition: `width` and `height` are in `1...Int32.max` (the PNG limit) and
    ///   `width * height * 3` does not overflow.
    public init(width: Int, height: Int, fill: RGB) {
        let count = RGBImage.byteCount(width: width, height: height)
        self.width = width
        self.height = height
        var pixels = [UInt8](repeating: 0, count: count)
        for start in stride(from: 0, to: count, by: 3) {
            pixels[start] = fill.red
            pixels[start + 1] = fill.green
            pixels[start + 2] = fill.blue
        }
        self.pixels = pixels
    }

    /// An image over existing bytes.
    ///
    /// - Precondition: the size is valid as for `init(width:height:fill:)` and
    ///   `pixels.count == width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        let count = RGBImage.byteCount(width: width, height: height)
        precondition(pixels.count == count,
                     "a \(width) × \(height) RGB image needs \(count) bytes; found \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The colour of pixel `(x, y)`, `(0, 0)` being the top-left corner.
    ///
    /// - Precondition: `0 <= x < width`, `0 <= y < height`.
    public subscript(x: Int, y: Int) -> RGB {
        get {
            let start = offset(x, y)
            return RGB(pixels[start], pixels[start + 1], pixels[start + 2])
        }
        set {
            let start = offset(x, y)
            pixels[start] = newValue.red
            pixels[start + 1] = newValue.green
            pixels[start + 2] = newValue.blue
        }
    }

    private func offset(_ x: Int, _ y: Int) -> Int {
        precondition(x >= 0 && x < width && y >= 0 && y < height,
                     "pixel (\(x), \(y)) is outside the \(width) × \(height) image")
        return (y * width + x) * 3
    }

    private static func byteCount(width: Int, height: Int) -> Int {
        precondition(width >= 1 && width <= Int(Int32.max) && height >= 1 && height <= Int(Int32.max),
                     "image size \(width) × \(height) is outside 1...\(Int32.max) on some side")
        let (area, overflowA) = width.multipliedReportingOverflow(by: height)
        let (count, overflowB) = area.multipliedReportingOverflow(by: 3)
        precondition(!overflowA && !overflowB, "a \(width) × \(height) RGB image is too large to address")
        return count
    }
}

/// One 8-bit sRGB colour.
public struct RGB: Equatable, Hashable, CustomStringConvertible {
    /// Red, 0...255.
    public var red: UInt8
    /// Green, 0...255.
    public var green: UInt8
    /// Blue, 0...255.
    public var blue: UInt8

    /// A colour from its three channels.
    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Relative luminance (Rec. 709 weights on linearised sRGB), 0 for black … 1 for white.
    public var luminance: Double {
        func linear(_ channel: UInt8) -> Double {
            let c = Double(channel) / 255
            return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    }

    /// `rgb(r, g, b)` with decimal channels.
    public var description: String { "rgb(\(red), \(green), \(blue))" }

    /// `rgb(255, 255, 255)`.
    public static let white = RGB(255, 255, 255)
    /// `rgb(0, 0, 0)`.
    public static let black = RGB(0, 0, 0)
}
