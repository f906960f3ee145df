import FusionKernels
import Testing

func layerNorm(_ x: [Float], rows: Int, n: Int, gamma: [Float]?, beta: [Float]?, eps: Float = 1e-5) -> [Float] {
    var y = [Float](repeating: .nan, count: rows * n)
    (gamma ?? []).withUnsafeBufferPointer { g in
        (beta ?? []).withUnsafeBufferPointer { b in
            fk_layer_norm(x, n, &y, n, rows, n, gamma == nil ? nil : g.baseAddress,
                          beta == nil ? nil : b.baseAddress, eps)
        }
    }
    return y
}

extension KernelsSuite {
    @Suite struct LayerNormTests {
        @Test("LayerNorm matches float64 within 1e-6·(|γ·x̂| + |β| + 1)", arguments: [1, 5, 16, 36, 768, 1001])
        func matchesReference(n: Int) {
            let rows = 3
            let x = randomFloats(rows * n, seed: UInt64(n), scale: 3).enumerated().map { $0.element + Float($0.offset % 7) }
            let gamma = randomFloats(n, seed: 2), beta = randomFloats(n, seed: 3)
            var want = [Double](repeating: 0, count: rows * n), scale = want
            for r in 0..<rows {
                let row = x[(r * n)..<((r + 1) * n)].map(Double.init)
                let mean = row.reduce(0, +) / Double(n)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
                for j in 0..<n {
                    let xhat = (row[j] - mean) / (variance + 1e-5).squareRoot()
                    want[r * n + j] = xhat * Double(gamma[j]) + Double(beta[j])
                    scale[r * n + j] = abs(xhat * Double(gamma[j])) + abs(Double(beta[j])) + 1
                }
            }
            forEachLevel { level in
                let y = layerNorm(x, rows: rows, n: n, gamma: gamma, beta: beta)
                let worst = worstError(y, want, scale: scale)
                print("layer norm n = \(n) [\(name(level))]: max error \(worst.error) at \(worst.index)")
                #expect(worst.error <= 1e-6, "\(name(level)) n = \(n) element \(worst.index): \(y[worst.index]) vs \(want[worst.index])")
            }
        }

        @Test("without affine parameters the output has mean 0 and variance 1; a constant row gives 0")
        func identities() {
            let n = 768
            let x = randomFloats(n, seed: 4, scale: 5) + [Float](repeating: 2.5, count: n)
            forEachLevel { level in
                let y = layerNorm(x, rows: 2, n: n, gamma: nil, beta: nil)
                let first = y[0..<n].map(Double.init)
                let mean = first.reduce(0, +) / Double(n)
                let variance = first.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
                #expect(abs(mean) <= 1e-6 && abs(variance - 1) <= 1e-5, "\(name(level)) mean \(mean) variance \(variance)")
                #expect(y[n...].allSatisfy { $0 == 0 }, "\(name(level)) constant row")
            }
        }

        @Test("rows are independent of their batch and in-place equals out-of-place; paths agree")
        func deterministic() {
            let n = 100, rows = 6
            let x = randomFloats(rows * n, seed: 5), g = randomFloats(n, seed: 6), b = randomFloats(n, seed: 7)
            var results: [[Float]] = []
            forEachLevel { level in
                let all = layerNorm(x, rows: rows, n: n, gamma: g, beta: b)
                let alone = layerNorm(Array(x[(4 * n)..<(5 * n)]), rows: 1, n: n, gamma: g, beta: b)
                #expect(bits(alone) == bits(Array(all[(4 * n)..<(5 * n)])), "\(name(level))")
                var inPlace = x
                inPlace.withUnsafeMutableBufferPointer {
                    fk_layer_norm($0.baseAddress, n, $0.baseAddress, n, rows, n, g, b, 1e-5)
                }
                #expect(bits(inPlace) == bits(all), "\(name(level)) in place")
                results.append(all)
            }
            for r in results.dropFirst() { #expect(bits(r) == bits(results[0])) }
        }
    }
}
