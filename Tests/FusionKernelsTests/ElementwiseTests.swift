import FusionKernels
import Testing

extension KernelsSuite {
    @Suite struct ElementwiseTests {
        @Test("fk_add and fk_bias_add are exact elementwise sums and touch nothing else")
        func sums() {
            let a = randomFloats(37, seed: 1), b = randomFloats(37, seed: 2), c = randomFloats(63, seed: 3)
            forEachLevel { level in
                var y = [Float](repeating: .nan, count: 37)
                fk_add(a, b, &y, 37)
                #expect(bits(y) == bits(zip(a, b).map { $0 + $1 }), "\(name(level))")
                // Three rows of 21 inside a stride of 25: the padding stays untouched.
                var m = [Float](repeating: .nan, count: 75)
                for r in 0..<3 { for j in 0..<21 { m[r * 25 + j] = c[r * 21 + j] } }
                fk_bias_add(&m, 25, 3, 21, b)
                for r in 0..<3 {
                    for j in 0..<25 {
                        if j < 21 { #expect(m[r * 25 + j] == c[r * 21 + j] + b[j]) } else { #expect(m[r * 25 + j].isNaN) }
                    }
                }
            }
        }
    }
}
