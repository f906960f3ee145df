import FusionKernels
import Glibc
import Testing

/// `values` copied into memory that starts `floats` floats past a 64-byte boundary: the
/// kernels get a float pointer that is 4-byte aligned and, for most offsets, nothing more
/// (no 16-, 32- or 64-byte alignment), which is all FusionKernels.h promises them.
final class OffsetFloats {
    private let raw: UnsafeMutableRawPointer
    let count: Int
    /// The first float (owned by this object; valid while it lives).
    let pointer: UnsafeMutablePointer<Float>
    init(_ values: [Float], floats offset: Int) {
        count = values.count
        raw = UnsafeMutableRawPointer.allocate(byteCount: (offset + values.count) * 4, alignment: 64)
        pointer = (raw + offset * 4).bindMemory(to: Float.self, capacity: values.count)
        pointer.initialize(from: values, count: values.count)
    }
    deinit { raw.deallocate() }
    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

extension KernelsSuite {
    @Suite struct AlignmentTests {
        @Test("kernels give the same bits whatever the 4-byte aligned address of each buffer",
              arguments: [1, 2, 3, 4, 8, 15])
        func offsets(floats offset: Int) {
            let (rows, input, output) = (5, 37, 40)
            let linear = PackedLinear(input: input, output: output, seed: 61)
            let x = randomFloats(rows * input, seed: 62)
            let c = AttentionCase(tokens: 9, dim: 45, heads: 3, seed: 63)
            let image = (0..<9).flatMap { t in (0..<45).map { c.token(t, $0) } }
            forEachLevel { level in
                let want = linear.apply(x, rows: rows, activation: FK_ACT_GELU)
                let mx = OffsetFloats(x, floats: offset)
                let mw = OffsetFloats(linear.weight, floats: (offset + 1) % 16)
                let my = OffsetFloats([Float](repeating: .nan, count: rows * output), floats: (offset + 2) % 16)
                let mz = OffsetFloats([Float](repeating: .nan, count: rows * output), floats: offset)
                withExtendedLifetime((mx, mw, my, mz)) {
                    fk_gemm(mx.pointer, input, linear.packed, input, output, linear.bias, FK_ACT_GELU,
                            my.pointer, output, 0, rows, 0, output)
                    fk_gemm_unpacked(mx.pointer, input, mw.pointer, input, input, output, linear.bias,
                                     FK_ACT_GELU, mz.pointer, output, 0, rows, 0, output)
                }
                #expect(bits(my.values) == bits(want), "\(name(level)) fk_gemm, offset \(offset)")
                #expect(bits(mz.values) == bits(want), "\(name(level)) fk_gemm_unpacked, offset \(offset)")

                let mi = OffsetFloats(image, floats: offset)
                let ms = OffsetFloats([Float](repeating: .nan, count: 9 * 3), floats: (offset + 1) % 16)
                withExtendedLifetime((mi, ms)) {
                    fk_attn_scores(mi.pointer, 45, 0, 9, 45, c.u, 45, 3, ms.pointer, 3)
                }
                #expect(bits(ms.values) == bits(c.scores(0..<9)), "\(name(level)) scores, offset \(offset)")
                let mp = OffsetFloats(randomFloats(9 * 3, seed: 64), floats: (offset + 2) % 16)
                let mzz = OffsetFloats([Float](repeating: .nan, count: 3 * 45), floats: offset)
                withExtendedLifetime((mi, mp, mzz)) {
                    fk_attn_weighted_sum(mi.pointer, 45, 0, 9, 45, mp.pointer, 3, 3, mzz.pointer, 45, 0, 45)
                }
                #expect(bits(mzz.values) == bits(c.weightedSum(mp.values, tokens: 0..<9, columns: 0..<45)),
                        "\(name(level)) weighted sum, offset \(offset)")
                let soft = OffsetFloats(randomFloats(21, seed: 65), floats: offset)
                withExtendedLifetime(soft) { fk_softmax(soft.pointer, soft.pointer, 17, 21) }
                #expect(bits(soft.values) == bits(softmax(randomFloats(21, seed: 65), valid: 17)),
                        "\(name(level)) softmax, offset \(offset)")
            }
        }

        /// A float pointer 2 bytes past a 64-byte boundary (what a stored .npz member often is
        /// when read in place) handed to fk_gemm as `x`, every other argument valid.
        @Test("a float pointer that is not 4-byte aligned is a broken contract: the kernel names it and aborts")
        func misalignedPointerAborts() async {
            let result = await #expect(processExitsWith: .signal(SIGABRT), observing: [\.standardErrorContent]) {
                let raw = UnsafeMutableRawPointer.allocate(byteCount: 4 * 64, alignment: 64)
                let x = UnsafePointer<Float>(OpaquePointer(raw + 2))
                let w = [Float](repeating: 1, count: 16 * 4)
                var packed = [Float](repeating: 0, count: fk_gemm_packed_count(4, 16))
                fk_gemm_pack_oi(w, 4, 16, 4, &packed)
                var y = [Float](repeating: 0, count: 16)
                fk_gemm(x, 4, packed, 4, 16, nil, FK_ACT_NONE, &y, 16, 0, 1, 0, 16)
            }
            let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
            #expect(message.contains("FusionKernels: fk_gemm: x = 0x"), "stderr: \(message)")
            #expect(message.contains(" is not 4-byte aligned: every float pointer must be"), "stderr: \(message)")
        }

        @Test("fk_attend names the sample and the field of a misaligned pointer")
        func misalignedSampleAborts() async {
            let result = await #expect(processExitsWith: .signal(SIGABRT), observing: [\.standardErrorContent]) {
                let raw = UnsafeMutableRawPointer.allocate(byteCount: 4 * 256, alignment: 64)
                let aligned = raw.bindMemory(to: Float.self, capacity: 256)
                aligned.initialize(repeating: 0, count: 256)
                let odd = UnsafeMutablePointer<Float>(OpaquePointer(raw + 4 * 128 + 3))
                var samples = [
                    fk_attn_sample(img: aligned, tokens: 2, u: aligned + 32, z: aligned + 64, weights: nil),
                    fk_attn_sample(img: aligned, tokens: 2, u: aligned + 32, z: aligned + 96, weights: odd),
                ]
                var scratch = [Float](repeating: 0, count: 1024)
                fk_attend(nil, &samples, 2, 16, 16, 1, 16, 16, 64, &scratch)
            }
            let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
            #expect(message.contains("FusionKernels: fk_attend: sample 1: weights = 0x"), "stderr: \(message)")
            #expect(message.contains(" is not 4-byte aligned"), "stderr: \(message)")
        }
    }
}
