import FusionKernels

/// The weight operand of a ``GemmCall``: a packed copy (`fk_gemm`), an nn.Linear weight read in
/// place (`fk_gemm_unpacked`), an (inputs × outputs) matrix read in place (`fk_gemm_io`), or either
/// read in place and packed block by block as the GEMM goes (`fk_gemm_inplace`); all give the same
/// bits.
enum GemmWeight {
    /// `fk_gemm_pack_oi` / `fk_gemm_pack_io` layout.
    case packed(UnsafePointer<Float>)
    /// (outputs × inputs) row-major with row stride `ldw` floats, at any byte address.
    case unpacked(UnsafeRawPointer, ldw: Int)
    /// (inputs × outputs) row-major with row stride `ldb` floats, at any byte address, each element
    /// multiplied by `scale` (rounded once) before use, as the packed copy of such a matrix is.
    case unpackedTransposed(UnsafeRawPointer, ldb: Int, scale: Float)
    /// Either layout (`transposed`: inputs × outputs, scaled), at any byte address, for many rows:
    /// packed one block at a time into the calling thread's block buffer.
    case blocked(UnsafeRawPointer, ld: Int, transposed: Bool, scale: Float)
}

/// One GEMM over a block of rows and columns: `y[r][o] = act(Σ_k x[r][k]·W[o][k] + bias[o])`
/// for r in `rows`, o in `columns`, one fma chain per element in increasing k.
///
/// Pointers are borrowed from buffers that outlive the parallel region that runs the call; a
/// `GemmCall` never outlives the `withPointer` closures it was built in.
struct GemmCall {
    /// Row r of the input at x + r·ldx (`inputs` floats).
    var x: UnsafePointer<Float>
    var ldx: Int
    var weight: GemmWeight
    var inputs: Int
    var outputs: Int
    /// `outputs` floats, or nil.
    var bias: UnsafePointer<Float>?
    var activation: fk_activation = FK_ACT_NONE
    /// Row r of the output at y + r·ldy.
    var y: UnsafeMutablePointer<Float>
    var ldy: Int
    var rows: Range<Int>
    var columns: Range<Int>

    /// Runs the block [rows] × [columns] on the calling thread (one fixed fma chain per element, so
    /// the bits do not depend on how a caller splits the block).
    func run(rows: Range<Int>, columns: Range<Int>) {
        switch weight {
        case .packed(let packed):
            fk_gemm(
                x, ldx, packed, inputs, outputs, bias, activation, y, ldy,
                rows.lowerBound, rows.upperBound, columns.lowerBound, columns.upperBound)
        case .unpacked(let w, let ldw):
            fk_gemm_unpacked(
                x, ldx, w, ldw, inputs, outputs, bias, activation, y, ldy,
                rows.lowerBound, rows.upperBound, columns.lowerBound, columns.upperBound)
        case .unpackedTransposed(let b, let ldb, let scale):
            fk_gemm_io(
                x, ldx, b, ldb, scale, inputs, outputs, bias, activation, y, ldy,
                rows.lowerBound, rows.upperBound, columns.lowerBound, columns.upperBound)
        case .blocked(let w, let ld, let transposed, let scale):
            fk_gemm_inplace(
                x, ldx, w, ld, transposed ? 1 : 0, scale, inputs, outputs, bias, activation, y, ldy,
                rows.lowerBound, rows.upperBound, columns.lowerBound, columns.upperBound)
        }
    }
}

/// A piece of a ``GemmCall``: the call's index and one tile of its rows and columns.
struct GemmTile {
    var call: Int
    var rows: Range<Int>
    var columns: Range<Int>
}

extension KernelPool {
    /// Runs every call, split into tiles spread over the pool, and returns when all are done.
    ///
    /// Tiles follow the kernel's blocking: columns in multiples of 16 (whole panels, 256 at most) and
    /// rows in multiples of 6 (the register tile), made smaller only until there are about four
    /// tiles per thread, so that both cores work even on one row. An element's bits do not depend
    /// on the tiling (see `fk_gemm`).
    func gemm(_ calls: [GemmCall]) {
        let tiles = GemmTiling.tiles(for: calls, threads: threads)
        calls.withUnsafeBufferPointer { calls in
            tiles.withUnsafeBufferPointer { tiles in
                run(tasks: tiles.count) { task, _ in
                    let tile = tiles[task]
                    calls[tile.call].run(rows: tile.rows, columns: tile.columns)
                }
            }
        }
    }

    /// Runs one call split into tiles (see ``gemm(_:)``).
    func gemm(_ call: GemmCall) {
        gemm([call])
    }
}

/// How ``KernelPool/gemm(_:)`` cuts calls into tiles.
enum GemmTiling {
    /// Rows of one register tile on the AVX-512 path.
    static let rowQuantum = 6
    /// Columns of one packed panel.
    static let columnQuantum = 16

    /// The tiles of `calls` for `threads` threads: per call, row tiles × column tiles covering
    /// exactly its rows × columns. Starts from all rows × 256 columns (a block that `fk_gemm_inplace`
    /// packs then serves every row of the call, packed once) and halves the column tile, then the row
    /// tile, while the total is below 4 tiles per thread.
    static func tiles(for calls: [GemmCall], threads: Int) -> [GemmTile] {
        var rowTile = 1 << 20
        var columnTile = 256
        func count(_ rowTile: Int, _ columnTile: Int) -> Int {
            calls.reduce(0) { total, call in
                total + ceilDiv(call.rows.count, rowTile) * columnPieces(call.columns, columnTile).count
            }
        }
        let wanted = threads > 1 ? 4 * threads : 1
        while count(rowTile, columnTile) < wanted && columnTile > 2 * columnQuantum {
            columnTile /= 2
        }
        while count(rowTile, columnTile) < wanted && rowTile > rowQuantum {
            rowTile = max(rowQuantum, rowTile / 2 / rowQuantum * rowQuantum)
        }
        var tiles: [GemmTile] = []
        for (index, call) in calls.enumerated() where !call.rows.isEmpty && !call.columns.isEmpty {
            let pieces = columnPieces(call.columns, columnTile)
            for start in stride(from: call.rows.lowerBound, to: call.rows.upperBound, by: rowTile) {
                let rows = start..<min(start + rowTile, call.rows.upperBound)
                for columns in pieces {
                    tiles.append(GemmTile(call: index, rows: rows, columns: columns))
                }
            }
        }
        return tiles
    }

    /// `columns` cut at multiples of `tile` (a multiple of 16) counted from column 0, so that every
    /// piece starts on a panel boundary (except possibly the first).
    static func columnPieces(_ columns: Range<Int>, _ tile: Int) -> [Range<Int>] {
        guard !columns.isEmpty else { return [] }
        var pieces: [Range<Int>] = []
        var start = columns.lowerBound
        while start < columns.upperBound {
            let end = min(columns.upperBound, (start / tile + 1) * tile)
            pieces.append(start..<end)
            start = end
        }
        return pieces
    }
}

/// ⌈a / b⌉ for a ≥ 0, b > 0.
@inline(__always)
func ceilDiv(_ a: Int, _ b: Int) -> Int {
    (a + b - 1) / b
}
