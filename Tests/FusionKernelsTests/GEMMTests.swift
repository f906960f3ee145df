import FusionKernels
import Testing

/// A weight packed for `fk_gemm`, with the float64 reference it stands for.
struct PackedLinear {
    let input: Int
    let output: Int
    let weight: [Float]  // (output × input), PyTorch layout
    let bias: [Float]?
    let packed: [Float]

    init(input: Int, output: Int, seed: UInt64, bias: Bool = true) {
        self.input = input
        self.output = output
        weight = randomFloats(input * output, seed: seed)
        self.bias = bias ? randomFloats(output, seed: seed &+ 1) : nil
        var packed = [Float](repeating: .nan, count: fk_gemm_packed_count(input, output))
        weight.withUnsafeBufferPointer { w in
            packed.withUnsafeMutableBufferPointer { p in
                fk_gemm_pack_oi(w.baseAddress, input, output, input, p.baseAddress)
            }
        }
        self.packed = packed
    }

    /// Y (rows × output) for rows of `x` (stride `ldx`) into a buffer of stride `ldy`
    /// pre-filled with `fill`, computing rows and columns in the given ranges.
    func apply(_ x: [Float], ldx: Int, rows: Range<Int>, columns: Range<Int>, ldy: Int,
               activation: fk_activation = FK_ACT_NONE, into y: inout [Float]) {
        let biasValues = bias ?? []
        x.withUnsafeBufferPointer { xp in
            packed.withUnsafeBufferPointer { pp in
                biasValues.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { yp in
                        fk_gemm(xp.baseAddress, ldx, pp.baseAddress, input, output,
                                bias == nil ? nil : bp.baseAddress, activation,
                                yp.baseAddress, ldy, rows.lowerBound, rows.upperBound,
                                columns.lowerBound, columns.upperBound)
                    }
                }
            }
        }
    }

    /// The whole product for `rows` contiguous rows of `x`.
    func apply(_ x: [Float], rows: Int, activation: fk_activation = FK_ACT_NONE) -> [Float] {
        var y = [Float](repeating: .nan, count: rows * output)
        apply(x, ldx: input, rows: 0..<rows, columns: 0..<output, ldy: output,
              activation: activation, into: &y)
        return y
    }

    /// Float64 reference X·Wᵀ + b, and Σ_k |x·w| + |b| per element (the error scale).
    func reference(_ x: [Float], rows: Int) -> (y: [Double], scale: [Double]) {
        var y = [Double](repeating: 0, count: rows * output)
        var scale = [Double](repeating: 0, count: rows * output)
        for r in 0..<rows {
            for o in 0..<output {
                var s = 0.0, a = 0.0
                for k in 0..<input {
                    let p = Double(x[r * input + k]) * Double(weight[o * input + k])
                    s += p
                    a += abs(p)
                }
                let b = Double(bias?[o] ?? 0)
                y[r * output + o] = s + b
                scale[r * output + o] = a + abs(b)
            }
        }
        return (y, scale)
    }
}

extension KernelsSuite {
    @Suite struct GEMMTests {
        /// Shapes: the model's, tiny odd ones from the tests, and tile edges (1, 5, 6, 7 rows;
        /// outputs around multiples of 16 and 64).
        static let shapes: [(rows: Int, input: Int, output: Int)] = [
            (1, 12, 20), (3, 36, 50), (7, 50, 20), (6, 64, 64), (13, 20, 36), (5, 17, 65),
            (19, 300, 129), (2, 768, 96), (9, 257, 33),
        ]

        @Test("fk_gemm matches a float64 reference within K·2⁻²⁴·Σ|x·w| on every path",
              arguments: shapes.indices)
        func matchesReference(shapeIndex: Int) {
            let (rows, input, output) = Self.shapes[shapeIndex]
            let linear = PackedLinear(input: input, output: output, seed: UInt64(100 + shapeIndex),
                                      bias: shapeIndex % 3 != 2)
            let x = randomFloats(rows * input, seed: UInt64(200 + shapeIndex))
            let (want, scale) = linear.reference(x, rows: rows)
            // Worst case of a K-term fma chain plus the bias add, relative to Σ|x·w| + |b|.
            let budget = Double(input + 1) * 0x1p-24
            forEachLevel { level in
                let got = linear.apply(x, rows: rows)
                let worst = worstError(got, want, scale: scale)
                print("gemm \(rows)×\(input)→\(output) [\(name(level))]: max |err|/Σ|x·w| = \(worst.error) at \(worst.index) (budget \(budget))")
                #expect(worst.error <= budget,
                        "\(name(level)) \(rows)×\(input)→\(output): element \(worst.index) = \(got[worst.index]), want \(want[worst.index])")
            }
        }

        @Test("every output element is one fma chain in increasing k, then + bias")
        func exactChain() {
            // Recompute each element with Float's own fused multiply-add, in the documented
            // order, and demand identical bits.
            let (rows, input, output) = (5, 37, 23)
            let linear = PackedLinear(input: input, output: output, seed: 7)
            let x = randomFloats(rows * input, seed: 8)
            forEachLevel { level in
                let got = linear.apply(x, rows: rows)
                for r in 0..<rows {
                    for o in 0..<output {
                        var acc: Float = 0
                        for k in 0..<input {
                            acc = acc.addingProduct(x[r * input + k], linear.weight[o * input + k])
                        }
                        acc += linear.bias![o]
                        #expect(got[r * output + o].bitPattern == acc.bitPattern,
                                "\(name(level)) row \(r) column \(o): got \(got[r * output + o]), chain gives \(acc)")
                    }
                }
            }
        }

        @Test("bits do not depend on row count, row position, column split or strides")
        func deterministicAcrossSplits() {
            let (rows, input, output) = (23, 300, 200)
            let linear = PackedLinear(input: input, output: output, seed: 11)
            let x = randomFloats(rows * input, seed: 12)
            forEachLevel { level in
                let whole = linear.apply(x, rows: rows)
                // Each row alone, as a 1-row product.
                for r in [0, 5, 6, 17, 22] {
                    let alone = linear.apply(Array(x[(r * input)..<((r + 1) * input)]), rows: 1)
                    let d = firstBitDifference(alone, Array(whole[(r * output)..<((r + 1) * output)]))
                    #expect(d == nil, "\(name(level)) row \(r) alone differs at column \(d?.index ?? -1): \(d?.a ?? 0) vs \(d?.b ?? 0)")
                }
                // Row r placed at another position of a larger batch with other strides.
                let ldx = input + 3, ldy = output + 5
                var shifted = [Float](repeating: 0, count: (rows + 4) * ldx)
                for r in 0..<rows { for k in 0..<input { shifted[(r + 4) * ldx + k] = x[r * input + k] } }
                var y = [Float](repeating: .nan, count: (rows + 4) * ldy)
                // Uneven row and column splits, as threads might use (columns not on 16s).
                for (rs, cs) in [(4..<9, 0..<37), (9..<27, 0..<37), (4..<27, 37..<130), (4..<27, 130..<200)] {
                    linear.apply(shifted, ldx: ldx, rows: rs, columns: cs, ldy: ldy, into: &y)
                }
                for r in 0..<rows {
                    for o in 0..<output where y[(r + 4) * ldy + o].bitPattern != whole[r * output + o].bitPattern {
                        Issue.record("\(name(level)) row \(r) column \(o): split gives \(y[(r + 4) * ldy + o]), whole gives \(whole[r * output + o])")
                        return
                    }
                }
                // Nothing outside the requested rows and columns was written.
                let untouchedRows = y[0..<(4 * ldy)].allSatisfy { $0.isNaN }
                let untouchedPadding = (4..<(rows + 4)).allSatisfy { r in
                    y[(r * ldy + output)..<((r + 1) * ldy)].allSatisfy { $0.isNaN }
                }
                #expect(untouchedRows && untouchedPadding)
            }
        }

        @Test("all CPU paths give identical bits")
        func pathsAgree() {
            let (rows, input, output) = (11, 129, 70)
            let linear = PackedLinear(input: input, output: output, seed: 21)
            let x = randomFloats(rows * input, seed: 22)
            var results: [(fk_cpu_level, [Float])] = []
            forEachLevel { level in results.append((level, linear.apply(x, rows: rows, activation: FK_ACT_GELU))) }
            for (level, y) in results.dropFirst() {
                let d = firstBitDifference(y, results[0].1)
                #expect(d == nil, "\(name(level)) vs \(name(results[0].0)) differ at \(d?.index ?? -1): \(d?.a ?? 0) vs \(d?.b ?? 0)")
            }
        }

        @Test("the fused activation equals fk_activate on the plain product",
              arguments: [FK_ACT_RELU, FK_ACT_GELU, FK_ACT_GELU_TANH])
        func fusedActivation(activation: fk_activation) {
            let (rows, input, output) = (7, 40, 35)
            let linear = PackedLinear(input: input, output: output, seed: 31)
            let x = randomFloats(rows * input, seed: 32, scale: 2)
            forEachLevel { level in
                let fused = linear.apply(x, rows: rows, activation: activation)
                var separate = linear.apply(x, rows: rows)
                separate.withUnsafeMutableBufferPointer { fk_activate(activation, $0.baseAddress, $0.baseAddress, $0.count) }
                let d = firstBitDifference(fused, separate)
                #expect(d == nil, "\(name(level)) activation \(activation.rawValue) differs at \(d?.index ?? -1)")
            }
        }

        @Test("fk_gemm_unpacked gives the bits of fk_gemm on the packed weight",
              arguments: [(1, 768, 96), (3, 37, 23), (9, 50, 20), (17, 129, 70), (8, 16, 16)])
        func unpackedEqualsPacked(rows: Int, input: Int, output: Int) {
            let linear = PackedLinear(input: input, output: output, seed: UInt64(rows * 7 + input),
                                      bias: rows % 2 == 1)
            let x = randomFloats(rows * input, seed: UInt64(output))
            // The weight with rows padded to a stride of input + 3.
            let ldw = input + 3
            var w = [Float](repeating: .nan, count: output * ldw)
            for o in 0..<output { for k in 0..<input { w[o * ldw + k] = linear.weight[o * input + k] } }
            forEachLevel { level in
                for act in [FK_ACT_NONE, FK_ACT_GELU] {
                    let want = linear.apply(x, rows: rows, activation: act)
                    var y = [Float](repeating: .nan, count: rows * output)
                    let bias = linear.bias ?? []
                    // Two uneven column ranges and two row ranges.
                    let cut = output / 3, half = rows / 2
                    for (r0, r1, c0, c1) in [(0, half, 0, output), (half, rows, 0, cut), (half, rows, cut, output)] {
                        bias.withUnsafeBufferPointer { b in
                            fk_gemm_unpacked(x, input, w, ldw, input, output, linear.bias == nil ? nil : b.baseAddress,
                                             act, &y, output, r0, r1, c0, c1)
                        }
                    }
                    let d = firstBitDifference(y, want)
                    #expect(d == nil, "\(name(level)) \(rows)×\(input)→\(output) act \(act.rawValue): element \(d?.index ?? -1) is \(d?.a ?? 0), packed gives \(d?.b ?? 0)")
                }
            }
        }

        @Test("fk_gemm_io gives the bits of fk_gemm on the scaled pack_io copy, at any float-aligned address",
              arguments: [(1, 96, 768, Float(1) / Float(96).squareRoot()), (3, 37, 23, 1), (9, 50, 20, 0.37),
                          (17, 129, 70, 1), (8, 16, 16, 3), (2, 12, 100, -0.5)])
        func ioEqualsScaledPacked(rows: Int, input: Int, output: Int, scale: Float) {
            // B (input × output) with rows padded to a stride of output + 5, stored one float past the
            // byte buffer's start (4-byte aligned, not 16-byte aligned) when `offset`.
            let ldb = output + 5
            let values = randomFloats(input * output, seed: UInt64(rows * 31 + output))
            var b = [Float](repeating: .nan, count: input * ldb)
            for k in 0..<input { for o in 0..<output { b[k * ldb + o] = values[k * output + o] } }
            let bias = randomFloats(output, seed: 5)
            let x = randomFloats(rows * input, seed: UInt64(input))
            var packed = [Float](repeating: .nan, count: fk_gemm_packed_count(input, output))
            fk_gemm_pack_io(b, ldb, input, output, &packed)
            if scale != 1 {
                for i in packed.indices { packed[i] *= scale }
            }
            let bytes = b.withUnsafeBytes { [UInt8](repeating: 0, count: 4) + Array($0) }
            forEachLevel { level in
                for (act, withBias) in [(FK_ACT_NONE, false), (FK_ACT_GELU, true)] {
                    var want = [Float](repeating: .nan, count: rows * output)
                    fk_gemm(x, input, packed, input, output, withBias ? bias : nil, act, &want, output, 0, rows, 0, output)
                    for offset in [false, true] {
                        var y = [Float](repeating: .nan, count: rows * output)
                        // Uneven row and column ranges.
                        let cut = output / 3 + 1, half = rows / 2
                        for (r0, r1, c0, c1) in [(0, half, 0, output), (half, rows, 0, cut), (half, rows, cut, output)] {
                            func run(_ base: UnsafePointer<Float>) {
                                fk_gemm_io(x, input, base, ldb, scale, input, output, withBias ? bias : nil, act,
                                           &y, output, r0, r1, c0, c1)
                            }
                            if offset {
                                bytes.withUnsafeBytes { run(UnsafePointer(bitPattern: Int(bitPattern: $0.baseAddress) + 4)!) }
                            } else {
                                b.withUnsafeBufferPointer { run($0.baseAddress!) }
                            }
                        }
                        let d = firstBitDifference(y, want)
                        #expect(d == nil, "\(name(level)) \(rows)×\(input)→\(output) scale \(scale) offset \(offset): element \(d?.index ?? -1) is \(d?.a ?? 0), packed gives \(d?.b ?? 0)")
                    }
                }
            }
        }

        @Test("weights at any byte address: fk_gemm_inplace (both layouts), fk_gemm_unpacked and fk_gemm_io give the packed bits",
              arguments: [(1, 37, 23), (7, 300, 290), (20, 129, 70), (45, 768, 96), (6, 16, 520)])
        func inPlaceAtAnyByteAddressEqualsPacked(rows: Int, input: Int, output: Int) {
            let linear = PackedLinear(input: input, output: output, seed: UInt64(rows * 13 + output), bias: rows % 2 == 0)
            let x = randomFloats(rows * input, seed: UInt64(input * 3))
            let scale: Float = 0.37
            // W (output × input, stride input + 1) and B = Wᵀ (input × output, stride output + 2) as bytes.
            let ldw = input + 1, ldb = output + 2
            var w = [Float](repeating: .nan, count: output * ldw)
            var b = [Float](repeating: .nan, count: input * ldb)
            for o in 0..<output {
                for k in 0..<input {
                    w[o * ldw + k] = linear.weight[o * input + k]
                    b[k * ldb + o] = linear.weight[o * input + k]
                }
            }
            var scaledPacked = [Float](repeating: .nan, count: fk_gemm_packed_count(input, output))
            fk_gemm_pack_io(b, ldb, input, output, &scaledPacked)
            for i in scaledPacked.indices { scaledPacked[i] *= scale }
            let bias = linear.bias ?? []
            forEachLevel { level in
                let want = linear.apply(x, rows: rows, activation: FK_ACT_GELU)
                var wantScaled = [Float](repeating: .nan, count: rows * output)
                fk_gemm(x, input, scaledPacked, input, output, linear.bias == nil ? nil : bias, FK_ACT_GELU,
                        &wantScaled, output, 0, rows, 0, output)
                for offset in 0..<4 {
                    let wBytes = [UInt8](repeating: 0, count: offset) + w.withUnsafeBytes { Array($0) }
                    let bBytes = [UInt8](repeating: 0, count: offset) + b.withUnsafeBytes { Array($0) }
                    var results: [(String, [Float], [Float])] = []
                    for kind in ["inplace oi", "inplace io", "unpacked", "io"] {
                        var y = [Float](repeating: .nan, count: rows * output)
                        let cut = output / 3 + 1, half = rows / 2
                        for (r0, r1, c0, c1) in [(0, half, 0, output), (half, rows, 0, cut), (half, rows, cut, output)] {
                            let biasPointer: UnsafePointer<Float>? = linear.bias == nil ? nil : bias.withUnsafeBufferPointer { $0.baseAddress }
                            (kind.hasSuffix("oi") || kind == "unpacked" ? wBytes : bBytes).withUnsafeBytes { raw in
                                let at = raw.baseAddress! + offset
                                switch kind {
                                case "inplace oi":
                                    fk_gemm_inplace(x, input, at, ldw, 0, 1, input, output, biasPointer, FK_ACT_GELU, &y, output, r0, r1, c0, c1)
                                case "inplace io":
                                    fk_gemm_inplace(x, input, at, ldb, 1, scale, input, output, biasPointer, FK_ACT_GELU, &y, output, r0, r1, c0, c1)
                                case "unpacked":
                                    fk_gemm_unpacked(x, input, at, ldw, input, output, biasPointer, FK_ACT_GELU, &y, output, r0, r1, c0, c1)
                                default:
                                    fk_gemm_io(x, input, at, ldb, scale, input, output, biasPointer, FK_ACT_GELU, &y, output, r0, r1, c0, c1)
                                }
                            }
                        }
                        results.append((kind, y, kind.hasSuffix("io") ? wantScaled : want))
                    }
                    for (kind, y, expected) in results {
                        let d = firstBitDifference(y, expected)
                        #expect(d == nil, "\(name(level)) \(kind) \(rows)×\(input)→\(output) byte offset \(offset): element \(d?.index ?? -1) is \(d?.a ?? 0), packed gives \(d?.b ?? 0)")
                    }
                }
            }
        }

        @Test("pack_io of Wᵀ equals pack_oi of W on every path, by panels and in parallel",
              arguments: [(19, 37), (16, 16), (50, 20), (768, 96), (33, 129)])
        func packLayouts(input: Int, output: Int) {
            let w = randomFloats(input * output, seed: UInt64(input * 1000 + output))
            var wt = [Float](repeating: 0, count: input * output)
            for o in 0..<output { for k in 0..<input { wt[k * output + o] = w[o * input + k] } }
            let count = fk_gemm_packed_count(input, output)
            let panels = (output + 15) / 16
            #expect(count == panels * 16 * input)
            // The layout itself: element (o, k) at panel o/16, row k, lane o%16; padding is 0.
            var want = [Float](repeating: 0, count: count)
            for o in 0..<output { for k in 0..<input { want[((o / 16) * input + k) * 16 + o % 16] = w[o * input + k] } }
            let pool = fk_pool_create(2)
            defer { fk_pool_destroy(pool) }
            forEachLevel { level in
                var a = [Float](repeating: .nan, count: count), b = a, c = a, d = a, e = a
                fk_gemm_pack_oi(w, input, output, input, &a)
                fk_gemm_pack_io(wt, output, input, output, &b)
                fk_gemm_pack_oi_parallel(pool, w, input, output, input, &c)
                fk_gemm_pack_io_parallel(pool, wt, output, input, output, &d)
                // From rows padded to a stride of input + 5.
                var padded = [Float](repeating: .nan, count: output * (input + 5))
                for o in 0..<output { for k in 0..<input { padded[o * (input + 5) + k] = w[o * input + k] } }
                var f = [Float](repeating: .nan, count: count)
                fk_gemm_pack_oi(padded, input + 5, output, input, &f)
                // Panels in two uneven ranges.
                let cut = panels / 3
                fk_gemm_pack_oi_panels(w, input, output, input, &e, 0, cut)
                fk_gemm_pack_oi_panels(w, input, output, input, &e, cut, panels)
                for (label, got) in [("oi", a), ("io", b), ("oi parallel", c), ("io parallel", d), ("oi panels", e), ("oi strided", f)] {
                    let diff = firstBitDifference(got, want)
                    #expect(diff == nil, "\(name(level)) \(label) \(input)×\(output): float \(diff?.index ?? -1) is \(diff?.a ?? 0), want \(diff?.b ?? 0)")
                }
            }
        }
    }
}
