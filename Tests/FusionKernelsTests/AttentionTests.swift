import Foundation
import FusionKernels
import Testing

/// A token matrix I (tokens × dim, row stride ldi, starting `offset` floats into its
/// storage so that rows can be misaligned) and head vectors U (heads × dim).
struct AttentionCase {
    let tokens: Int, dim: Int, heads: Int, ldi: Int, offset: Int
    let storage: [Float]
    let u: [Float]

    init(tokens: Int, dim: Int, heads: Int, seed: UInt64, ldi: Int? = nil, offset: Int = 0) {
        self.tokens = tokens
        self.dim = dim
        self.heads = heads
        self.ldi = ldi ?? dim
        self.offset = offset
        storage = [Float](repeating: 0, count: offset) + randomFloats(tokens * (ldi ?? dim), seed: seed)
        u = randomFloats(heads * dim, seed: seed &+ 1, scale: 0.1)
    }

    func token(_ t: Int, _ j: Int) -> Float { storage[offset + t * ldi + j] }

    /// Runs `body` with a pointer to token 0.
    func withImages<R>(_ body: (UnsafePointer<Float>) -> R) -> R {
        storage.withUnsafeBufferPointer { body($0.baseAddress! + offset) }
    }

    func scores(_ range: Range<Int>) -> [Float] {
        var s = [Float](repeating: .nan, count: tokens * heads)
        withImages { img in
            fk_attn_scores(img, ldi, range.lowerBound, range.upperBound, dim, u, dim, heads, &s, heads)
        }
        return s
    }

    func weightedSum(_ p: [Float], tokens range: Range<Int>, columns: Range<Int>) -> [Float] {
        var z = [Float](repeating: .nan, count: heads * dim)
        withImages { img in
            fk_attn_weighted_sum(img, ldi, range.lowerBound, range.upperBound, dim, p, heads, heads,
                                 &z, dim, columns.lowerBound, columns.upperBound)
        }
        return z
    }

    struct Chunk { var p: [Float]; var m: [Float]; var l: [Float]; var z: [Float] }

    func chunk(_ range: Range<Int>) -> Chunk {
        var c = Chunk(p: [Float](repeating: .nan, count: tokens * heads), m: [Float](repeating: .nan, count: heads),
                      l: [Float](repeating: .nan, count: heads), z: [Float](repeating: .nan, count: heads * dim))
        withImages { img in
            fk_attn_chunk(img, ldi, range.lowerBound, range.upperBound, dim, u, dim, heads,
                          &c.p, heads, &c.m, &c.l, &c.z, dim)
        }
        return c
    }

    /// Fused attention over tokens [0, valid) in chunks of `chunkSize` from token 0:
    /// z (heads × dim) and the attention weights (tokens × heads).
    func attend(valid: Int, chunkSize: Int, columnSplits: [Int]? = nil) -> (z: [Float], weights: [Float]) {
        let starts = Array(stride(from: 0, to: valid, by: chunkSize))
        var m = [Float](), l = [Float](), zc = [Float](), p = [Float](repeating: 0, count: tokens * heads)
        for s in starts {
            let c = chunk(s..<min(s + chunkSize, valid))
            m += c.m
            l += c.l
            zc += c.z
            for t in s..<min(s + chunkSize, valid) { for h in 0..<heads { p[t * heads + h] = c.p[t * heads + h] } }
        }
        var scale = [Float](repeating: .nan, count: starts.count * heads)
        fk_attn_merge_scales(starts.count, heads, m, l, &scale)
        var z = [Float](repeating: .nan, count: heads * dim)
        let splits = columnSplits ?? [0, dim]
        for i in 0..<(splits.count - 1) {
            fk_attn_merge_sum(starts.count, heads, dim, scale, zc, heads * dim, dim, &z, dim, splits[i], splits[i + 1])
        }
        for (c, s) in starts.enumerated() {
            for t in s..<min(s + chunkSize, valid) { for h in 0..<heads { p[t * heads + h] *= scale[c * heads + h] } }
        }
        return (z, p)
    }

    /// Float64 softmax attention over tokens [0, valid): z, and Σ_t a·|I| per element.
    func reference(valid: Int) -> (z: [Double], scale: [Double], weights: [Double]) {
        var z = [Double](repeating: 0, count: heads * dim), scale = z
        var a = [Double](repeating: 0, count: tokens * heads)
        for h in 0..<heads {
            var s = [Double](repeating: 0, count: valid)
            for t in 0..<valid {
                for j in 0..<dim { s[t] += Double(token(t, j)) * Double(u[h * dim + j]) }
            }
            let mx = s.max()!
            let e = s.map { Foundation.exp($0 - mx) }
            let sum = e.reduce(0, +)
            for t in 0..<valid {
                a[t * heads + h] = e[t] / sum
                for j in 0..<dim {
                    z[h * dim + j] += e[t] / sum * Double(token(t, j))
                    scale[h * dim + j] += e[t] / sum * abs(Double(token(t, j)))
                }
            }
        }
        return (z, scale, a)
    }
}

/// The documented score of one token and head: sixteen lane chains and the fixed tree.
func laneTreeDot(_ x: (Int) -> Float, _ y: (Int) -> Float, count: Int) -> Float {
    var lanes = [Float](repeating: 0, count: 16)
    for j in 0..<count { lanes[j % 16] = lanes[j % 16].addingProduct(x(j), y(j)) }
    let rem = (count % 16 == 0) ? 16 : count % 16
    // Masked tail lanes take fma(0, 0, acc) = acc + 0, which turns -0 into +0.
    for l in rem..<16 where count % 16 != 0 { lanes[l] += 0 }
    var w = lanes
    for half in [8, 4, 2, 1] { for i in 0..<half { w[i] = w[i] + w[i + half] } }
    return w[0]
}

extension KernelsSuite {
    @Suite struct AttentionTests {
        @Test("scores follow the documented lane/tree order exactly and match float64")
        func scores() {
            for (tokens, dim, heads) in [(5, 2048, 8), (3, 50, 3), (4, 17, 16), (7, 36, 1), (70, 1031, 10)] {
                let c = AttentionCase(tokens: tokens, dim: dim, heads: heads, seed: UInt64(dim))
                forEachLevel { level in
                    let s = c.scores(0..<tokens)
                    var worst = 0.0
                    for t in 0..<tokens {
                        for h in 0..<heads {
                            let want = laneTreeDot({ c.token(t, $0) }, { c.u[h * dim + $0] }, count: dim)
                            #expect(s[t * heads + h].bitPattern == want.bitPattern,
                                    "\(name(level)) dim \(dim) token \(t) head \(h): \(s[t * heads + h]) vs \(want)")
                            var d = 0.0, a = 0.0
                            for j in 0..<dim {
                                d += Double(c.token(t, j)) * Double(c.u[h * dim + j])
                                a += abs(Double(c.token(t, j)) * Double(c.u[h * dim + j]))
                            }
                            worst = max(worst, abs(Double(s[t * heads + h]) - d) / a)
                        }
                    }
                    let budget = Double(dim / 16 + 5) * 0x1p-24
                    print("scores dim \(dim) heads \(heads) [\(name(level))]: max |err|/Σ|x·u| = \(worst) (budget \(budget))")
                    #expect(worst <= budget)
                }
            }
        }

        @Test("scores of a token do not depend on its range, row stride or alignment")
        func scoresDeterministic() {
            let a = AttentionCase(tokens: 9, dim: 300, heads: 5, seed: 3)
            // The same tokens, rows padded to a stride of 307 and shifted by one float.
            let b = AttentionCase(tokens: 9, dim: 300, heads: 5, ldi: 307, offset: 1, copying: a)
            forEachLevel { level in
                let whole = a.scores(0..<9)
                var parts = [Float](repeating: .nan, count: 9 * 5)
                for r in [0..<1, 1..<4, 4..<9] {
                    let s = b.scores(r)
                    for i in (r.lowerBound * 5)..<(r.upperBound * 5) { parts[i] = s[i] }
                }
                #expect(bits(whole) == bits(parts), "\(name(level))")
            }
        }

        @Test("weighted sums are one fma chain over tokens, whatever the column split or token count",
              arguments: [13, 150])
        func weightedSum(tokens: Int) {
            // 150 tokens span several internal token blocks, whose partial sums are resumed.
            let c = AttentionCase(tokens: tokens, dim: 70, heads: 3, seed: 5, offset: 3)
            let p = randomFloats(tokens * 3, seed: 6)
            forEachLevel { level in
                let whole = c.weightedSum(p, tokens: 2..<tokens, columns: 0..<70)
                var split = [Float](repeating: .nan, count: 3 * 70)
                for cols in [0..<5, 5..<37, 37..<70] {
                    let part = c.weightedSum(p, tokens: 2..<tokens, columns: cols)
                    for h in 0..<3 { for j in cols { split[h * 70 + j] = part[h * 70 + j] } }
                }
                #expect(bits(whole) == bits(split), "\(name(level)) column split changed bits")
                for h in 0..<3 {
                    for j in 0..<70 {
                        var acc: Float = 0
                        for t in 2..<tokens { acc = acc.addingProduct(p[t * 3 + h], c.token(t, j)) }
                        #expect(whole[h * 70 + j].bitPattern == acc.bitPattern,
                                "\(name(level)) head \(h) column \(j): \(whole[h * 70 + j]) vs chain \(acc)")
                    }
                }
                // An empty token range gives zeros.
                #expect(c.weightedSum(p, tokens: 4..<4, columns: 0..<70).allSatisfy { $0 == 0 })
            }
        }

        @Test("a chunk equals scores, then exp(s − max), a sequential sum and a weighted sum")
        func chunkComposition() {
            let c = AttentionCase(tokens: 40, dim: 129, heads: 8, seed: 7)
            forEachLevel { level in
                let got = c.chunk(5..<40)
                var s = c.scores(5..<40)
                var m = [Float](repeating: -.infinity, count: 8), l = [Float](repeating: 0, count: 8)
                for t in 5..<40 { for h in 0..<8 { m[h] = max(m[h], s[t * 8 + h]) } }
                for t in 5..<40 {
                    for h in 0..<8 {
                        let shifted = [s[t * 8 + h] - m[h]]
                        s[t * 8 + h] = map(shifted) { fk_exp($0, $1, $2) }[0]
                        l[h] += s[t * 8 + h]
                    }
                }
                #expect(bits(got.m) == bits(m), "\(name(level)) max")
                #expect(bits(Array(got.p[40...])) == bits(Array(s[40...])), "\(name(level)) exp values")
                #expect(bits(got.l) == bits(l), "\(name(level)) sums")
                #expect(bits(got.z) == bits(c.weightedSum(s, tokens: 5..<40, columns: 0..<129)), "\(name(level)) weighted sum")
            }
        }

        @Test("fk_attn_chunk_kv: each head over its own key and value columns gives fk_attn_chunk's bits on that head's rows")
        func formedKeysAndValuesPerHead() {
            let tokens = 70, heads = 5, dim = 19, d = heads * dim + 3  // row stride wider than the heads
            let keys = randomFloats(tokens * d, seed: 41)
            let values = randomFloats(tokens * d, seed: 42)
            let u = randomFloats(heads * dim, seed: 43)
            forEachLevel { level in
                var p = [Float](repeating: .nan, count: tokens * heads)
                var m = [Float](repeating: .nan, count: heads), l = [Float](repeating: .nan, count: heads)
                var z = [Float](repeating: .nan, count: heads * dim)
                fk_attn_chunk_kv(keys, d, dim, values, d, dim, 3, tokens, dim, u, dim, heads, &p, heads, &m, &l, &z, dim)
                for h in 0..<heads {
                    // The head's keys and values as one contiguous matrix each, through the one-set kernel.
                    var headKeys: [Float] = [], headValues: [Float] = []
                    for t in 0..<tokens {
                        let row = t * d + h * dim
                        headKeys += keys[row..<(row + dim)]
                        headValues += values[row..<(row + dim)]
                    }
                    var pk = [Float](repeating: .nan, count: tokens), mk: [Float] = [.nan], lk: [Float] = [.nan]
                    var zk = [Float](repeating: .nan, count: dim), zv = [Float](repeating: .nan, count: dim)
                    let uh = Array(u[(h * dim)..<((h + 1) * dim)])
                    fk_attn_chunk(headKeys, dim, 3, tokens, dim, uh, dim, 1, &pk, 1, &mk, &lk, &zk, dim)
                    fk_attn_weighted_sum(headValues, dim, 3, tokens, dim, pk, 1, 1, &zv, dim, 0, dim)
                    #expect(bits((3..<tokens).map { p[$0 * heads + h] }) == bits(Array(pk[3...])), "\(name(level)) head \(h) p")
                    #expect(bits([m[h], l[h]]) == bits([mk[0], lk[0]]), "\(name(level)) head \(h) m, l")
                    #expect(bits(Array(z[(h * dim)..<((h + 1) * dim)])) == bits(zv), "\(name(level)) head \(h) z")
                }
            }
        }

        @Test("chunked attention matches float64 softmax attention, weights sum to 1",
              arguments: [(200, 64), (64, 64), (1, 64), (100, 7)])
        func chunkedMatchesReference(valid: Int, chunkSize: Int) {
            let c = AttentionCase(tokens: 200, dim: 96, heads: 8, seed: UInt64(valid))
            let ref = c.reference(valid: valid)
            forEachLevel { level in
                let (z, a) = c.attend(valid: valid, chunkSize: chunkSize)
                let worst = worstError(z, ref.z, scale: ref.scale)
                print("attention \(valid) tokens, chunks of \(chunkSize) [\(name(level))]: max |err|/Σa|I| = \(worst.error)")
                #expect(worst.error <= 2e-6, "\(name(level)) element \(worst.index): \(z[worst.index]) vs \(ref.z[worst.index])")
                for h in 0..<8 {
                    var total = 0.0
                    for t in 0..<valid {
                        total += Double(a[t * 8 + h])
                        #expect(abs(Double(a[t * 8 + h]) - ref.weights[t * 8 + h]) <= 1e-6)
                    }
                    #expect(abs(total - 1) <= 1e-5, "\(name(level)) head \(h): weights sum to \(total)")
                }
            }
        }

        @Test("one valid token: attention returns that token exactly; one chunk: scale = 1/l")
        func identities() {
            let c = AttentionCase(tokens: 3, dim: 33, heads: 4, seed: 9)
            forEachLevel { level in
                let (z, a) = c.attend(valid: 1, chunkSize: 64)
                for h in 0..<4 {
                    #expect(a[h] == 1, "\(name(level)) head \(h) weight \(a[h])")
                    for j in 0..<33 { #expect(z[h * 33 + j] == c.token(0, j)) }
                }
                let k = c.chunk(0..<3)
                var scale = [Float](repeating: .nan, count: 4)
                fk_attn_merge_scales(1, 4, k.m, k.l, &scale)
                #expect(bits(scale) == bits(k.l.map { 1 / $0 }), "\(name(level))")
            }
        }

        @Test("huge score differences give a one-hot softmax without overflow")
        func hugeLogits() {
            let c = AttentionCase(tokens: 4, dim: 16, heads: 1, ldi: 16, offset: 0,
                                  copying: AttentionCase(tokens: 4, dim: 16, heads: 1, seed: 10),
                                  u: [Float](repeating: 1e3, count: 16))
            forEachLevel { level in
                let (z, a) = c.attend(valid: 4, chunkSize: 2)
                let s = c.scores(0..<4)
                let best = s.indices.max { s[$0] < s[$1] }!
                #expect(a[best] == 1 && a.enumerated().allSatisfy { $0.offset == best || $0.element == 0 },
                        "\(name(level)) weights \(a) for scores \(s)")
                #expect(z.enumerated().allSatisfy { $0.element == c.token(best, $0.offset) })
            }
        }

        @Test("results do not depend on chunk merge column splits, alignment or padding, and paths agree")
        func deterministic() {
            let a = AttentionCase(tokens: 150, dim: 200, heads: 8, seed: 11)
            let shifted = AttentionCase(tokens: 150, dim: 200, heads: 8, ldi: 211, offset: 1, copying: a)
            var perPath: [[Float]] = []
            forEachLevel { level in
                let (z, w) = a.attend(valid: 130, chunkSize: 64)
                let (z2, w2) = shifted.attend(valid: 130, chunkSize: 64, columnSplits: [0, 16, 101, 200])
                #expect(bits(z) == bits(z2), "\(name(level)) z")
                #expect(bits(w) == bits(w2), "\(name(level)) weights")
                perPath.append(z + w)
            }
            for p in perPath.dropFirst() { #expect(bits(p) == bits(perPath[0])) }
        }
    }
}

extension AttentionCase {
    /// A copy of `other`'s tokens (and head vectors, unless `u` is given) stored with
    /// another row stride and offset; tokens from `nanFrom` on are NaN (padding that
    /// must never be read into a result).
    init(tokens: Int, dim: Int, heads: Int, ldi: Int, offset: Int, copying other: AttentionCase,
         u: [Float]? = nil, nanFrom: Int? = nil) {
        self.tokens = tokens
        self.dim = dim
        self.heads = heads
        self.ldi = ldi
        self.offset = offset
        var storage = [Float](repeating: -7, count: offset + tokens * ldi)
        for t in 0..<tokens {
            for j in 0..<dim { storage[offset + t * ldi + j] = t >= (nanFrom ?? tokens) ? .nan : other.token(t, j) }
        }
        self.storage = storage
        self.u = u ?? other.u
    }
}
