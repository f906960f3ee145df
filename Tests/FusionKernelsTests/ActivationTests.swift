import Foundation
import FusionKernels
import Testing

/// Applies a C map `(x, y, n)` to an array.
func map(_ x: [Float], _ f: (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void) -> [Float] {
    var y = [Float](repeating: .nan, count: x.count)
    x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { f(xp.baseAddress, $0.baseAddress, x.count) } }
    return y
}

func activate(_ act: fk_activation, _ x: [Float]) -> [Float] { map(x) { fk_activate(act, $0, $1, $2) } }

/// A dense grid over [lo, hi] plus random points, with sizes that leave vector tails.
func samplePoints(_ lo: Float, _ hi: Float, count: Int, seed: UInt64) -> [Float] {
    let grid = (0..<count).map { lo + (hi - lo) * Float($0) / Float(count - 1) }
    var rng = SplitMix64(seed: seed)
    return grid + (0..<(count / 2 + 7)).map { _ in Float.random(in: lo...hi, using: &rng) }
}

/// Distance in units in the last place of the float nearest to `want`.
func ulps(_ got: Float, _ want: Double) -> Double {
    let w = Float(want)
    let ulp = Double(w.ulp == 0 ? Float.leastNonzeroMagnitude : w.ulp)
    return abs(Double(got) - want) / ulp
}

extension KernelsSuite {
    @Suite struct ActivationTests {
        @Test("fk_exp is within 2 ulp of exp on [-87, 88.7] and handles its edges")
        func expAccuracy() {
            let x = samplePoints(-87, 88.7, count: 40001, seed: 1) + [-1e-7, 1e-7, 0.5, -0.5]
            forEachLevel { level in
                let y = map(x) { fk_exp($0, $1, $2) }
                var worst = (ulps: 0.0, x: Float(0))
                for i in x.indices {
                    let e = ulps(y[i], Foundation.exp(Double(x[i])))
                    if e > worst.ulps { worst = (e, x[i]) }
                }
                print("fk_exp [\(name(level))]: max error \(worst.ulps) ulp at x = \(worst.x)")
                #expect(worst.ulps <= 2, "\(name(level)): exp(\(worst.x)) off by \(worst.ulps) ulp")
                let edges: [Float] = [0, -0.0, -104.5, -200, -.infinity, 88.8, 100, .infinity, .nan, -95]
                let e = map(edges) { fk_exp($0, $1, $2) }
                #expect(e[0] == 1 && e[1] == 1)
                #expect(e[2] == 0 && e[3] == 0 && e[4] == 0)
                #expect(e[5] == .infinity && e[6] == .infinity && e[7] == .infinity)
                #expect(e[8].isNaN)
                // A denormal result, correctly scaled (within one denormal step).
                let d = Foundation.exp(-95.0)
                #expect(abs(Double(e[9]) - d) <= Double(Float.leastNonzeroMagnitude), "exp(-95) = \(e[9]), want \(d)")
            }
        }

        @Test("fk_erf is within 2e-7 of erf")
        func erfAccuracy() {
            let x = samplePoints(-6, 6, count: 30001, seed: 2) + [0, 0.4999, 0.5, 1e-6, -1e-6]
            forEachLevel { level in
                let y = map(x) { fk_erf($0, $1, $2) }
                var worst = (error: 0.0, x: Float(0))
                for i in x.indices {
                    let e = abs(Double(y[i]) - Foundation.erf(Double(x[i])))
                    if e > worst.error { worst = (e, x[i]) }
                }
                print("fk_erf [\(name(level))]: max abs error \(worst.error) at x = \(worst.x)")
                #expect(worst.error <= 2e-7, "\(name(level)): erf(\(worst.x)) off by \(worst.error)")
                #expect(map([0]) { fk_erf($0, $1, $2) }[0] == 0)
            }
        }

        @Test("exact GELU is within 2e-7·max(1,|x|) of x·Φ(x)")
        func geluAccuracy() {
            let x = samplePoints(-12, 12, count: 40001, seed: 3) + [0, -0.0, 1e-8, -1e-8, 30, -30]
            forEachLevel { level in
                let y = activate(FK_ACT_GELU, x)
                var worst = (error: 0.0, x: Float(0))
                for i in x.indices {
                    let xd = Double(x[i])
                    let want = 0.5 * xd * Foundation.erfc(-xd / 2.0.squareRoot())
                    let e = abs(Double(y[i]) - want) / max(1, abs(xd))
                    if e > worst.error { worst = (e, x[i]) }
                }
                print("gelu [\(name(level))]: max |err|/max(1,|x|) = \(worst.error) at x = \(worst.x)")
                #expect(worst.error <= 2e-7, "\(name(level)): gelu(\(worst.x)) relative-to-max(1,|x|) error \(worst.error)")
                #expect(activate(FK_ACT_GELU, [.nan])[0].isNaN)
            }
        }

        @Test("tanh GELU is within 2e-7·max(1,|x|) of its float64 formula")
        func geluTanhAccuracy() {
            let x = samplePoints(-12, 12, count: 40001, seed: 4) + [0, 30, -30, -100, 100]
            forEachLevel { level in
                let y = activate(FK_ACT_GELU_TANH, x)
                var worst = (error: 0.0, x: Float(0))
                for i in x.indices {
                    let xd = Double(x[i])
                    let want = 0.5 * xd * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (xd + 0.044715 * xd * xd * xd)))
                    let e = abs(Double(y[i]) - want) / max(1, abs(xd))
                    if e > worst.error { worst = (e, x[i]) }
                }
                print("gelu_tanh [\(name(level))]: max |err|/max(1,|x|) = \(worst.error) at x = \(worst.x)")
                #expect(worst.error <= 2e-7, "\(name(level)): gelu_tanh(\(worst.x)) error \(worst.error)")
            }
        }

        @Test("ReLU is exact, keeps NaN, and NONE copies")
        func reluAndNone() {
            let x: [Float] = [-2, -0.0, 0, 3.5, .nan, -.infinity, .infinity] + randomFloats(21, seed: 5)
            forEachLevel { level in
                let y = activate(FK_ACT_RELU, x)
                for i in x.indices {
                    if x[i].isNaN { #expect(y[i].isNaN) } else {
                        #expect(y[i] == (x[i] < 0 ? 0 : x[i]), "\(name(level)): relu(\(x[i])) = \(y[i])")
                    }
                }
                #expect(bits(activate(FK_ACT_NONE, x)) == bits(x))
            }
        }

        @Test("activations work in place and all paths agree bit for bit",
              arguments: [FK_ACT_RELU, FK_ACT_GELU, FK_ACT_GELU_TANH])
        func inPlaceAndPaths(act: fk_activation) {
            let x = randomFloats(1000, seed: 6, scale: 8)
            var results: [[Float]] = []
            forEachLevel { _ in
                var inPlace = x
                inPlace.withUnsafeMutableBufferPointer { fk_activate(act, $0.baseAddress, $0.baseAddress, $0.count) }
                #expect(bits(inPlace) == bits(activate(act, x)))
                results.append(inPlace)
                results.append(map(x) { fk_exp($0, $1, $2) })
                results.append(map(x) { fk_erf($0, $1, $2) })
            }
            for r in stride(from: 3, to: results.count, by: 1) {
                let d = firstBitDifference(results[r], results[r % 3])
                #expect(d == nil, "path \(r / 3) function \(r % 3) differs at \(d?.index ?? -1)")
            }
        }
    }
}
