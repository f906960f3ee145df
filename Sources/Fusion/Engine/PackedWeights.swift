import FusionKernels

/// Where one packed weight matrix lives in ``PackedWeights``' storage.
struct PackedSlot {
    /// Offset in floats from the start of the storage.
    let offset: Int
    /// in (k) and out (o) of the GEMM `y = x·Wᵀ`.
    let inputs: Int
    let outputs: Int
}

/// Where one plain vector (a bias, a LayerNorm weight) lives in ``PackedWeights``' storage.
struct VectorSlot {
    let offset: Int
    let count: Int
}

/// The packed weights of one fusion block, as the engine's plan A uses them.
struct PackedBlock {
    /// Wq (d × d) and bq, for `Q = Wq·x + bq`.
    let query: PackedSlot
    let queryBias: VectorSlot?
    /// Per head h, `Wk_h` (rows h·dh..<(h+1)·dh of Wk) packed as a (dh → d) map: `r_h = Wk_hᵀ·Q_h`.
    let keyHeads: [PackedSlot]
    /// Wvv (d × d) and bv: head h's output columns h·dh..<(h+1)·dh are `Wvv_h·z_h + bv_h`.
    let value: PackedSlot
    let valueBias: VectorSlot?
    /// out_proj (d × d) and bo.
    let output: PackedSlot
    let outputBias: VectorSlot?
    /// ffn.0 (ffn × d, bias) and ffn.2 (d × ffn, bias).
    let expand: PackedSlot
    let expandBias: VectorSlot
    let contract: PackedSlot
    let contractBias: VectorSlot
    /// norm1 and norm2 weight and bias.
    let norm1: (weight: VectorSlot, bias: VectorSlot)
    let norm2: (weight: VectorSlot, bias: VectorSlot)
}

/// Every weight of a ``FusionModel`` laid out for the FusionKernels GEMM, in one 64-byte aligned
/// allocation: matrices in `fk_gemm_pack_*` panel layout, vectors copied as they are.
///
/// Packing reads each weight once and writes it once (about the model's size, 122 MB for the
/// default configuration); it runs on the pool, split into panel ranges (the result is the same
/// for any split: packing only moves values).
final class PackedWeights: @unchecked Sendable {
    let config: FusionConfig
    let storage: AlignedFloats
    /// text_proj.proj (txt → d) and vision_proj.proj (img → d).
    let text: PackedSlot
    let vision: PackedSlot
    let blocks: [PackedBlock]
    let finalNorm: (weight: VectorSlot, bias: VectorSlot)?

    /// Packs `model` using `pool`.
    init(model: FusionModel, pool: KernelPool) {
        let config = model.config
        let d = config.projDim
        let heads = config.nHeads
        let dh = d / heads
        var layout = SlotAllocator()
        var jobs: [PackJob] = []
        var vectors: [(Tensor, Int, VectorSlot)] = []

        func matrix(_ weight: Tensor, rows: Range<Int>? = nil) -> PackedSlot {
            let inputs = weight.shape[1]
            let outRows = rows ?? 0..<weight.shape[0]
            let slot = layout.matrix(inputs: inputs, outputs: outRows.count)
            jobs.append(PackJob(source: weight, firstElement: outRows.lowerBound * inputs, stride: inputs,
                                transposed: false, slot: slot))
            return slot
        }
        func vector(_ tensor: Tensor, range: Range<Int>? = nil) -> VectorSlot {
            let range = range ?? 0..<tensor.count
            let slot = layout.vector(count: range.count)
            vectors.append((tensor, range.lowerBound, slot))
            return slot
        }

        text = matrix(model.textProjection.weight)
        vision = matrix(model.visionProjection.weight)
        var blocks: [PackedBlock] = []
        for block in model.blocks {
            let attention = block.attention
            let inProj = attention.inProjWeight
            let inBias = attention.inProjBias
            let keyHeads = (0..<heads).map { h -> PackedSlot in
                // Rows d + h·dh ..< d + (h+1)·dh of in_proj_weight form Wk_h (dh × d); packed as
                // the (dh → d) map x ↦ x·Wk_h, i.e. fk_gemm_pack_io with in = dh, out = d.
                let slot = layout.matrix(inputs: dh, outputs: d)
                jobs.append(PackJob(source: inProj, firstElement: (d + h * dh) * d, stride: d,
                                    transposed: true, slot: slot))
                return slot
            }
            blocks.append(PackedBlock(
                query: matrix(inProj, rows: 0..<d),
                queryBias: inBias.map { vector($0, range: 0..<d) },
                keyHeads: keyHeads,
                value: matrix(inProj, rows: (2 * d)..<(3 * d)),
                valueBias: inBias.map { vector($0, range: (2 * d)..<(3 * d)) },
                output: matrix(attention.outProj.weight),
                outputBias: attention.outProj.bias.map { vector($0) },
                expand: matrix(block.feedForward.expand.weight),
                expandBias: vector(block.feedForward.expand.bias!),
                contract: matrix(block.feedForward.contract.weight),
                contractBias: vector(block.feedForward.contract.bias!),
                norm1: (vector(block.norm1.weight), vector(block.norm1.bias)),
                norm2: (vector(block.norm2.weight), vector(block.norm2.bias))))
        }
        self.blocks = blocks
        finalNorm = model.finalNorm.map { (vector($0.weight), vector($0.bias)) }
        self.config = config
        storage = AlignedFloats(count: layout.total)

        let pieces = PackJob.pieces(jobs, panelsPerPiece: 8)
        storage.withPointer { base in
            for (tensor, first, slot) in vectors {
                tensor.values.withUnsafeBufferPointer { values in
                    (base + slot.offset).update(from: values.baseAddress! + first, count: slot.count)
                }
            }
            pieces.withUnsafeBufferPointer { pieces in
                jobs.withUnsafeBufferPointer { jobs in
                    pool.run(tasks: pieces.count) { task, _ in
                        let piece = pieces[task]
                        jobs[piece.job].pack(panels: piece.panels, into: base)
                    }
                }
            }
        }
    }

    /// Bytes of packed storage.
    var byteCount: Int { storage.count * MemoryLayout<Float>.stride }
}

/// Hands out 64-byte aligned offsets in one float arena.
private struct SlotAllocator {
    private(set) var total = 0

    mutating func matrix(inputs: Int, outputs: Int) -> PackedSlot {
        let slot = PackedSlot(offset: total, inputs: inputs, outputs: outputs)
        total += align(fk_gemm_packed_count(inputs, outputs))
        return slot
    }

    mutating func vector(count: Int) -> VectorSlot {
        let slot = VectorSlot(offset: total, count: count)
        total += align(count)
        return slot
    }

    private func align(_ floats: Int) -> Int { (floats + 15) / 16 * 16 }
}

/// One weight matrix to pack: `outputs` rows of `inputs` floats (row stride `stride`) starting at
/// `firstElement` of `source`, packed as an nn.Linear weight (o × k, `fk_gemm_pack_oi`), or, when
/// `transposed`, a (k × o) matrix with k = `slot.inputs` rows (`fk_gemm_pack_io`).
private struct PackJob {
    let source: Tensor
    let firstElement: Int
    let stride: Int
    let transposed: Bool
    let slot: PackedSlot

    /// Packs output panels `panels` (16 outputs each) into their place in `base + slot.offset`.
    /// The panel layout puts panel p at offset p·inputs·16, so ranges of panels pack independently.
    func pack(panels: Range<Int>, into base: UnsafeMutablePointer<Float>) {
        let inputs = slot.inputs
        let firstOutput = panels.lowerBound * 16
        let outputs = min(slot.outputs, panels.upperBound * 16) - firstOutput
        let destination = base + slot.offset + panels.lowerBound * inputs * 16
        source.values.withUnsafeBufferPointer { values in
            let origin = values.baseAddress! + firstElement
            if transposed {
                fk_gemm_pack_io(origin + firstOutput, stride, inputs, outputs, destination)
            } else {
                fk_gemm_pack_oi(origin + firstOutput * stride, stride, outputs, inputs, destination)
            }
        }
    }

    /// Every job cut into ranges of `panelsPerPiece` panels.
    static func pieces(_ jobs: [PackJob], panelsPerPiece: Int) -> [(job: Int, panels: Range<Int>)] {
        var pieces: [(job: Int, panels: Range<Int>)] = []
        for (index, job) in jobs.enumerated() {
            let panels = ceilDiv(job.slot.outputs, 16)
            for start in Swift.stride(from: 0, to: panels, by: panelsPerPiece) {
                pieces.append((index, start..<min(panels, start + panelsPerPiece)))
            }
        }
        return pieces
    }
}
