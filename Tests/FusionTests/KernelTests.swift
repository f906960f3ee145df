import Foundation
import Testing
@testable import Fusion

@Suite struct KernelTests {
    @Test func layerNormHasMeanZeroVarianceOneAndMatchesFloat64() {
        let x = ModelFactory.normal([300], seed: 3).values.map { $0 * 40 + 7 }
        let ones = [Float](repeating: 1, count: 300)
        let zeros = [Float](repeating: 0, count: 300)
        var y = [Float](repeating: 0, count: 300)
        x.withUnsafeBufferPointer { input in
            ones.withUnsafeBufferPointer { w in
                zeros.withUnsafeBufferPointer { b in
                    y.withUnsafeMutableBufferPointer { out in
                        layerNormalize(input, weight: w, bias: b, eps: 1e-5, output: out)
                    }
                }
            }
        }
        let mean = y.map(Double.init).reduce(0, +) / 300
        let variance = y.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / 300
        let xMean = x.map(Double.init).reduce(0, +) / 300
        let xVar = x.map { (Double($0) - xMean) * (Double($0) - xMean) }.reduce(0, +) / 300
        let expected = x.map { (Double($0) - xMean) / (xVar + 1e-5).squareRoot() }
        let worst = maxAbsError(y, expected)
        print("layerNorm: mean \(mean), variance \(variance), max abs error vs float64 \(worst.error) at \(worst.index)")
        #expect(abs(mean) < 1e-6)
        #expect(abs(variance - 1) < 1e-5)
        #expect(worst.error < 2e-6)
    }

    @Test func softmaxSurvivesHugeLogits() {
        var logits: [Float] = [1e30, 1e30 - 1e24, -1e30, 3e38, 3e38]
        logits.withUnsafeMutableBufferPointer { softmaxInPlace($0) }
        #expect(logits == [0, 0, 0, 0.5, 0.5])
        var single: [Float] = [-8e37]
        single.withUnsafeMutableBufferPointer { softmaxInPlace($0) }
        #expect(single == [1])
        var moderate: [Float] = [100, 101, 99]
        moderate.withUnsafeMutableBufferPointer { softmaxInPlace($0) }
        let e = [exp(-1.0), 1, exp(-2.0)]
        let total = e.reduce(0, +)
        let worst = maxAbsError(moderate, e.map { $0 / total })
        #expect(worst.error < 1e-7, "softmax max abs error \(worst.error)")
    }

    @Test func matrixVectorMatchesFloat64() {
        let rows = 37
        let cols = 301
        let w = ModelFactory.normal([rows, cols], seed: 11).values
        let x = ModelFactory.normal([cols], seed: 12).values
        let bias = ModelFactory.normal([rows], seed: 13).values
        var y = [Float](repeating: 0, count: rows)
        w.withUnsafeBufferPointer { wp in
            x.withUnsafeBufferPointer { xp in
                bias.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { yp in
                        matrixVector(weight: wp, rows: rows, cols: cols, input: xp, bias: bp, output: yp)
                    }
                }
            }
        }
        let expected = (0..<rows).map { r in
            (0..<cols).reduce(0.0) { $0 + Double(w[r * cols + $1]) * Double(x[$1]) } + Double(bias[r])
        }
        let worst = maxAbsError(y, expected)
        print("matrixVector: max abs error vs float64 \(worst.error) at row \(worst.index)")
        // Every row within float32's rounding bound for a chain of cols + 1 additions:
        // |y - exact| <= (cols + 1)·2⁻²⁴·(Σ|w·x| + |b|) (Higham's γ bound, first order).
        for r in 0..<rows {
            let magnitude = (0..<cols).reduce(0.0) { $0 + abs(Double(w[r * cols + $1]) * Double(x[$1])) } + abs(Double(bias[r]))
            let bound = Double(cols + 1) * 0x1p-24 * magnitude
            #expect(abs(Double(y[r]) - expected[r]) <= bound, "row \(r): \(y[r]) vs \(expected[r]), bound \(bound)")
        }
        #expect(worst.error < 2e-5)  // measured 1.01e-5 (row 27, 301 terms of magnitude ~1)
    }

    @Test func dotProductIsOneSequentialChain() {
        // 1 + 1e8 − 1e8 in float32: sequential order gives 0 (1 is absorbed), pairwise would differ.
        let a: [Float] = [1, 1e8, -1e8, 3]
        let b: [Float] = [1, 1, 1, 1]
        let value = a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { dotProduct(ap, $0) } }
        #expect(value == 3)
    }

    @Test func activationsMatchFloat64() {
        let x: [Float] = [-6, -3, -1.5, -0.5, -1e-3, 0, 1e-3, 0.5, 1.5, 3, 6]
        for activation in Activation.allCases {
            var y = x
            y.withUnsafeMutableBufferPointer { applyActivation(activation, to: $0) }
            let expected: [Double] = x.map(Double.init).map { v in
                switch activation {
                case .gelu: return 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
                case .geluTanh: return 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
                case .relu: return max(v, 0)
                }
            }
            let worst = maxAbsError(y, expected)
            #expect(worst.error < 1e-6, "\(activation): max abs error \(worst.error) at \(worst.index)")
        }
    }
}
