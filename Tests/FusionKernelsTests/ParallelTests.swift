import FusionKernels
import Testing

/// Runs fk_attend over `cases` (one sample each, all tokens of case i up to valid[i])
/// on a pool of `threads`, returning each sample's z and weights.
func attendBatch(_ cases: [AttentionCase], valid: [Int], threads: Int32, chunk: Int = 64,
                 withWeights: Bool = true) -> [(z: [Float], weights: [Float])] {
    let dim = cases[0].dim, heads = cases[0].heads, ldi = cases[0].ldi
    // Output buffers owned here, so that nested closures never overlap array accesses.
    let zs = cases.map { _ in UnsafeMutableBufferPointer<Float>.allocate(capacity: heads * dim) }
    let ws = zip(cases, valid).map { UnsafeMutableBufferPointer<Float>.allocate(capacity: $1 * $0.heads) }
    defer { (zs + ws).forEach { $0.deallocate() } }
    (zs + ws).forEach { $0.initialize(repeating: .nan) }
    let pool = fk_pool_create(threads)
    defer { fk_pool_destroy(pool) }
    // Image and head-vector pointers stay valid only inside their closures: nest them.
    func run(_ i: Int, _ samples: [fk_attn_sample]) {
        if i == cases.count {
            let count = fk_attend_scratch_count(samples, samples.count, dim, heads, chunk)
            var scratch = [Float](repeating: .nan, count: count)
            fk_attend(pool, samples, samples.count, dim, ldi, heads, dim, dim, chunk, &scratch)
            return
        }
        cases[i].withImages { img in
            cases[i].u.withUnsafeBufferPointer { u in
                let s = fk_attn_sample(img: img, tokens: valid[i], u: u.baseAddress, z: zs[i].baseAddress,
                                       weights: withWeights ? ws[i].baseAddress : nil)
                run(i + 1, samples + [s])
            }
        }
    }
    run(0, [])
    return zip(zs, ws).map { (Array($0), Array($1)) }
}

extension KernelsSuite {
    @Suite struct ParallelTests {
        @Test("fk_gemm_parallel and fk_gemm_unpacked_parallel equal one fk_gemm call bit for bit on any pool size",
              arguments: [(1, 768, 3072), (256, 300, 96), (5, 64, 700), (3, 20, 36)])
        func gemmParallel(rows: Int, input: Int, output: Int) {
            let linear = PackedLinear(input: input, output: output, seed: UInt64(output))
            let x = randomFloats(rows * input, seed: UInt64(rows))
            let want = linear.apply(x, rows: rows, activation: FK_ACT_GELU)
            for threads: Int32 in [1, 2, 3] {
                let pool = fk_pool_create(threads)
                defer { fk_pool_destroy(pool) }
                var y = [Float](repeating: .nan, count: rows * output)
                fk_gemm_parallel(pool, x, input, linear.packed, input, output, linear.bias, FK_ACT_GELU,
                                 &y, output, rows)
                let d = firstBitDifference(y, want)
                #expect(d == nil, "\(threads) threads, \(rows)×\(input)→\(output): element \(d?.index ?? -1)")
                var u = [Float](repeating: .nan, count: rows * output)
                fk_gemm_unpacked_parallel(pool, x, input, linear.weight, input, input, output, linear.bias,
                                          FK_ACT_GELU, &u, output, rows)
                let e = firstBitDifference(u, want)
                #expect(e == nil, "unpacked, \(threads) threads, \(rows)×\(input)→\(output): element \(e?.index ?? -1)")
            }
        }

        @Test("fk_attend equals the sequential chunk pipeline for every sample, whatever the pool, batch or padding")
        func attendDeterministic() {
            let tokens = [1, 63, 64, 65, 200, 130]
            let cases = tokens.enumerated().map {
                AttentionCase(tokens: 210, dim: 100, heads: 8, seed: UInt64(40 + $0.offset))
            }
            forEachLevel { level in
                let sequential = zip(cases, tokens).map { $0.attend(valid: $1, chunkSize: 64) }
                for threads: Int32 in [1, 2, 3] {
                    let batch = attendBatch(cases, valid: tokens, threads: threads)
                    for i in cases.indices {
                        #expect(bits(batch[i].z) == bits(sequential[i].z), "\(name(level)) \(threads) threads sample \(i) z")
                        let w = Array(sequential[i].weights[..<(tokens[i] * 8)])
                        #expect(bits(batch[i].weights) == bits(w), "\(name(level)) \(threads) threads sample \(i) weights")
                    }
                }
                // Sample 4 alone, without weights, its padding rows replaced by NaN.
                let padded = AttentionCase(tokens: 210, dim: 100, heads: 8, ldi: 100, offset: 0,
                                           copying: cases[4], nanFrom: 200)
                let alone = attendBatch([padded], valid: [200], threads: 2, withWeights: false)
                #expect(bits(alone[0].z) == bits(sequential[4].z), "\(name(level)) alone, padding removed")
            }
        }
    }
}
