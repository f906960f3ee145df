import FusionKernels
import Testing

/// `values` copied into raw memory at `offset` bytes past a 64-byte boundary, so that
/// the float pointer handed to a kernel is misaligned (as a member of a .npz can be).
final class MisalignedFloats {
    let raw: UnsafeMutableRawPointer
    let count: Int
    let offset: Int
    init(_ values: [Float], offset: Int) {
        count = values.count
        self.offset = offset
        raw = UnsafeMutableRawPointer.allocate(byteCount: values.count * 4 + 64 + offset, alignment: 64)
        values.withUnsafeBytes { (raw + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }
    deinit { raw.deallocate() }
    /// A float pointer at the misaligned address (only ever read through the kernels).
    var pointer: UnsafeMutablePointer<Float> {
        UnsafeMutablePointer(OpaquePointer(raw + offset))
    }
    var values: [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: raw + offset, count: count * 4)) }
        return out
    }
}

extension KernelsSuite {
    @Suite struct AlignmentTests {
        @Test("kernels give the same bits on pointers misaligned by 1, 2 or 3 bytes", arguments: [1, 2, 3])
        func misaligned(offset: Int) {
            let (rows, input, output) = (5, 37, 40)
            let linear = PackedLinear(input: input, output: output, seed: 61)
            let x = randomFloats(rows * input, seed: 62)
            let c = AttentionCase(tokens: 9, dim: 45, heads: 3, seed: 63)
            let image = (0..<9).flatMap { t in (0..<45).map { c.token(t, $0) } }
            forEachLevel { level in
                let want = linear.apply(x, rows: rows, activation: FK_ACT_GELU)
                let mx = MisalignedFloats(x, offset: offset)
                let mw = MisalignedFloats(linear.weight, offset: (offset + 1) % 4)
                let my = MisalignedFloats([Float](repeating: .nan, count: rows * output), offset: (offset + 2) % 4)
                let mz = MisalignedFloats([Float](repeating: .nan, count: rows * output), offset: offset)
                withExtendedLifetime((mx, mw, my, mz)) {
                    fk_gemm(mx.pointer, input, linear.packed, input, output, linear.bias, FK_ACT_GELU,
                            my.pointer, output, 0, rows, 0, output)
                    fk_gemm_unpacked(mx.pointer, input, mw.pointer, input, input, output, linear.bias,
                                     FK_ACT_GELU, mz.pointer, output, 0, rows, 0, output)
                }
                #expect(bits(my.values) == bits(want), "\(name(level)) fk_gemm, offset \(offset)")
                #expect(bits(mz.values) == bits(want), "\(name(level)) fk_gemm_unpacked, offset \(offset)")

                let mi = MisalignedFloats(image, offset: offset)
                let ms = MisalignedFloats([Float](repeating: .nan, count: 9 * 3), offset: (offset + 1) % 4)
                withExtendedLifetime((mi, ms)) {
                    fk_attn_scores(mi.pointer, 45, 0, 9, 45, c.u, 45, 3, ms.pointer, 3)
                }
                #expect(bits(ms.values) == bits(c.scores(0..<9)), "\(name(level)) scores, offset \(offset)")
                let mp = MisalignedFloats(randomFloats(9 * 3, seed: 64), offset: (offset + 2) % 4)
                let mzz = MisalignedFloats([Float](repeating: .nan, count: 3 * 45), offset: offset)
                withExtendedLifetime((mi, mp, mzz)) {
                    fk_attn_weighted_sum(mi.pointer, 45, 0, 9, 45, mp.pointer, 3, 3, mzz.pointer, 45, 0, 45)
                }
                #expect(bits(mzz.values) == bits(c.weightedSum(mp.values, tokens: 0..<9, columns: 0..<45)),
                        "\(name(level)) weighted sum, offset \(offset)")
                let soft = MisalignedFloats(randomFloats(21, seed: 65), offset: offset)
                withExtendedLifetime(soft) { fk_softmax(soft.pointer, soft.pointer, 17, 21) }
                #expect(bits(soft.values) == bits(softmax(randomFloats(21, seed: 65), valid: 17)),
                        "\(name(level)) softmax, offset \(offset)")
            }
        }
    }
}
