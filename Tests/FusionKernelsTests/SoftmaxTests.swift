import Foundation
import FusionKernels
import Testing

func softmax(_ x: [Float], valid: Int) -> [Float] {
    var y = [Float](repeating: .nan, count: x.count)
    fk_softmax(x, &y, valid, x.count)
    return y
}

extension KernelsSuite {
    @Suite struct SoftmaxTests {
        /// Budget per element, relative: the rounding of x − max (|x − max|·u), exp (2u),
        /// the sequential sum (worst case (n−1)·u) and the division (u), u = 2⁻²⁴.
        @Test("masked softmax matches float64 within (|x − max| + n + 3)·2⁻²⁴ relative, zeros past n_valid",
              arguments: [(1, 1), (1, 5), (17, 20), (64, 64), (300, 333)])
        func matchesReference(valid: Int, n: Int) {
            let x = randomFloats(n, seed: UInt64(n), scale: 10)
            let mx = x[..<valid].map(Double.init).max()!
            let e = x[..<valid].map { Foundation.exp(Double($0) - mx) }
            let sum = e.reduce(0, +)
            forEachLevel { level in
                let y = softmax(x, valid: valid)
                var worst = (ratio: 0.0, error: 0.0)
                for t in 0..<valid {
                    let error = abs(Double(y[t]) - e[t] / sum) / (e[t] / sum)
                    let budget = (abs(Double(x[t]) - mx) + Double(valid) + 3) * 0x1p-24
                    if error / budget > worst.ratio { worst = (error / budget, error) }
                }
                print("softmax \(valid)/\(n) [\(name(level))]: max relative error \(worst.error), \(worst.ratio) of its budget")
                #expect(worst.ratio <= 1, "\(name(level)) \(valid) of \(n)")
                #expect(y[valid...].allSatisfy { $0 == 0 && $0.sign == .plus })
                let total = y.map(Double.init).reduce(0, +)
                #expect(abs(total - 1) <= 1e-6)
            }
        }

        @Test("huge logits give a one-hot row; the sum runs in increasing t")
        func edges() {
            forEachLevel { level in
                #expect(softmax([1e30, -1e30, 5, 7], valid: 3) == [1, 0, 0, 0], "\(name(level))")
                let y = softmax([-1e30, 3e4, 0, 1], valid: 4)
                #expect(y == [0, 1, 0, 0], "\(name(level)) \(y)")
                // The normaliser is the sequential sum of the exp values.
                let x = randomFloats(37, seed: 9)
                let m = x.max()!
                let e = x.map { v -> Float in
                    var out: Float = 0
                    withUnsafePointer(to: v - m) { p in fk_exp(p, &out, 1) }
                    return out
                }
                var sum: Float = 0
                for v in e { sum += v }
                #expect(bits(softmax(x, valid: 37)) == bits(e.map { $0 / sum }), "\(name(level))")
            }
        }
    }
}
