/// How one data axis (frames, steps, or block × head rows) maps onto pixels.
///
/// `count` entries are grouped `group` at a time into `cells` cells (the last may hold fewer), each
/// `cellSize` pixels long; a cell's value is the mean over its entries.
struct AxisLayout: Equatable {
    let count: Int
    let group: Int
    let cellSize: Int

    var cells: Int { (count + group - 1) / group }
    /// Pixels the axis spans.
    var length: Int { cells * cellSize }

    /// The entries averaged into `cell`.
    func entries(ofCell cell: Int) -> Range<Int> {
        (cell * group)..<min((cell + 1) * group, count)
    }

    /// Pixel offset of `cell`'s centre from the axis start.
    func centre(ofCell cell: Int) -> Int {
        cell * cellSize + cellSize / 2
    }

    /// The largest cell side up to `preferred` that keeps `count` cells within `limit` pixels.
    ///
    /// When `canGroup` is false the side shrinks down to 1 pixel and no entries are grouped. Otherwise
    /// the side stays at least `min(2, preferred)`; when even that does not fit, neighbouring entries are
    /// grouped, the group size being the smallest of 1, 2, 5, 10, 20, 50, … that fits.
    static func fitting(count: Int, preferred: Int, limit: Int, canGroup: Bool) -> AxisLayout {
        precondition(count >= 1 && preferred >= 1 && limit >= 1,
                     "axis of \(count) entries, preferred cell \(preferred), limit \(limit)")
        let side = min(preferred, limit / count)
        let minimum = canGroup ? min(2, preferred) : 1
        if side >= minimum { return AxisLayout(count: count, group: 1, cellSize: side) }
        if !canGroup { return AxisLayout(count: count, group: 1, cellSize: 1) }
        let group = NiceNumbers.sequence.first { g in ((count + g - 1) / g) * minimum <= limit } ?? count
        let cells = (count + group - 1) / group
        return AxisLayout(count: count, group: group, cellSize: min(preferred, limit / cells))
    }

    /// Where to put labelled ticks so that neighbouring labels are at least `spacing` pixels apart.
    ///
    /// Numeric axes label entry indices at multiples of a stride from 1, 2, 5, 10, 20, … that is a
    /// multiple of `group`; the tick sits on the centre of the cell holding that entry. Returns
    /// `(cell, entry)` pairs.
    func ticks(spacing: Int) -> [(cell: Int, entry: Int)] {
        let stride = NiceNumbers.sequence.first { s in s % group == 0 && (s / group) * cellSize >= spacing } ?? count
        return Swift.stride(from: 0, to: count, by: stride).map { (cell: $0 / group, entry: $0) }
    }
}

/// 1, 2, 5, 10, 20, 50, 100, … up to beyond any axis length an image can hold.
enum NiceNumbers {
    static let sequence: [Int] = {
        var numbers = [Int]()
        var decade = 1
        while decade <= 1_000_000_000 {
            numbers += [decade, 2 * decade, 5 * decade]
            decade *= 10
        }
        return numbers
    }()
}
