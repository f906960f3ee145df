import FusionKernels
import NpyIO

/// One weight matrix of the engine: where its values are in the model and where its packed copy
/// goes once it is packed.
struct WeightMatrix {
    /// Index of the source tensor in ``EngineWeights/tensors``.
    let tensor: Int
    /// First element of the matrix in that tensor, and its row stride.
    let firstElement: Int
    let stride: Int
    /// false: an nn.Linear weight (outputs × inputs), read in place by `fk_gemm_unpacked`; true: an
    /// (inputs × outputs) matrix (the absorbed key heads, plan B′'s Wvᵀ), read by `fk_gemm_io`.
    let transposed: Bool
    /// A factor every element is multiplied by (one rounded float multiply) before use: 1/√dh for
    /// the key heads, 1 otherwise. The packed copy stores the products; `fk_gemm_io` forms them on
    /// the fly, with the same bits.
    let scale: Float
    /// in (k) and out (o) of the GEMM `y = x·Wᵀ`.
    let inputs: Int
    let outputs: Int
    /// Offset in floats of the packed copy in ``EngineWeights/arena``.
    let packedOffset: Int
}

/// Where one plain vector (a bias, a LayerNorm weight) lives in ``EngineWeights/arena``.
struct VectorSlot {
    let offset: Int
    let count: Int
}

/// The weights of one fusion block as plan A uses them (matrix indices into
/// ``EngineWeights/matrices``, vectors in the arena).
struct BlockWeights {
    /// Wq (d × d) and bq, for `Q = Wq·x + bq`.
    let query: Int
    let queryBias: VectorSlot?
    /// Per head h, `Wk_h/√dh` (rows h·dh..<(h+1)·dh of Wk, scaled on use or when packed) as a (dh → d) map:
    /// `r_h = (Wk_h/√dh)ᵀ·Q_h`, the attention scale folded into the weight.
    let keyHeads: [Int]
    /// Plan C: Wk (d × d, rows d..<2d of in_proj_weight) and bk, for `K = X·Wkᵀ + bk`.
    let key: Int
    let keyBias: VectorSlot?
    /// Wvv (d × d) and bv: head h's output columns h·dh..<(h+1)·dh are `Wvv_h·z_h + bv_h`.
    let value: Int
    let valueBias: VectorSlot?
    /// out_proj (d × d) and bo.
    let output: Int
    let outputBias: VectorSlot?
    /// ffn.0 (ffn × d, bias) and ffn.2 (d × ffn, bias).
    let expand: Int
    let expandBias: VectorSlot
    let contract: Int
    let contractBias: VectorSlot
    /// norm1 and norm2 weight and bias.
    let norm1: (weight: VectorSlot, bias: VectorSlot)
    let norm2: (weight: VectorSlot, bias: VectorSlot)
}

/// Every weight of a ``FusionModel`` as the engine uses it: biases and LayerNorm vectors copied
/// into one 64-byte aligned arena, and each matrix either read in place from the model's tensors
/// (which are themselves usually read in place from the weights file's memory map) or from a
/// packed copy in the arena (`fk_gemm_pack_oi`/`fk_gemm_pack_io` panels for `fk_gemm`). In place,
/// an nn.Linear weight goes through `fk_gemm_unpacked` (transposing 16 × 16 blocks in registers)
/// and a transposed matrix (the absorbed key heads, scaled by 1/√dh on the fly) through
/// `fk_gemm_io`. All give the same bits.
///
/// GEMMs of at least ``blockedRows`` rows read the weight in place through `fk_gemm_inplace`,
/// which packs one 256 × 256 block at a time into a per-thread buffer and runs the packed kernel's
/// register tiles over it: no packed copy of the model, so no fresh pages to fault in on every run
/// (packing the default model's 115 MB into new memory cost ≈ 45 ms on the 2-core Zen 4 machine,
/// whose VM populates fresh pages at ≈ 2.5 GB/s). Fewer rows (one query, a stream step) read it
/// in place through `fk_gemm_unpacked` / `fk_gemm_io`; a matrix that such few-row GEMMs use a
/// second time (a stream's second step) is packed once into the arena, whose packed region is
/// reserved up front but only touched as matrices are packed, and used packed from then on. All
/// choices give the same bits.
final class EngineWeights: @unchecked Sendable {
    /// Rows from which a GEMM reads its weight through `fk_gemm_inplace` (unless it is packed).
    static let blockedRows = 16

    let config: FusionConfig
    /// The model's tensors the matrices are read from.
    let tensors: [Tensor]
    let matrices: [WeightMatrix]
    let arena: AlignedFloats
    /// text_proj.proj (txt → d) and vision_proj.proj (img → d).
    let text: Int
    let vision: Int
    /// Plan B′: Wv as the (d → img) map r ↦ Wvᵀ·r (packed with fk_gemm_pack_io).
    let visionTransposed: Int
    let blocks: [BlockWeights]
    let finalNorm: (weight: VectorSlot, bias: VectorSlot)?

    private let lock = Lock()
    private var packed: [Bool]
    private var uses: [Int]

    init(model: FusionModel) {
        let config = model.config
        let d = config.projDim
        let heads = config.nHeads
        let dh = d / heads
        let keyScale = Float((1.0 / Double(dh)).squareRoot())
        var tensors: [Tensor] = []
        var matrices: [WeightMatrix] = []
        var vectors: [(tensor: Tensor, first: Int, slot: VectorSlot)] = []
        var total = 0
        func take(_ floats: Int) -> Int {
            defer { total += (floats + 15) / 16 * 16 }
            return total
        }
        func source(_ tensor: Tensor) -> Int {
            tensors.append(tensor)
            return tensors.count - 1
        }
        func matrix(_ tensor: Int, rows: Range<Int>? = nil) -> Int {
            let weight = tensors[tensor]
            let inputs = weight.shape[1]
            let rows = rows ?? 0..<weight.shape[0]
            matrices.append(WeightMatrix(
                tensor: tensor, firstElement: rows.lowerBound * inputs, stride: inputs, transposed: false, scale: 1,
                inputs: inputs, outputs: rows.count, packedOffset: take(fk_gemm_packed_count(inputs, rows.count))))
            return matrices.count - 1
        }
        func vector(_ tensor: Tensor, range: Range<Int>? = nil) -> VectorSlot {
            let range = range ?? 0..<tensor.count
            let slot = VectorSlot(offset: take(range.count), count: range.count)
            vectors.append((tensor, range.lowerBound, slot))
            return slot
        }

        text = matrix(source(model.textProjection.weight))
        vision = matrix(source(model.visionProjection.weight))
        let img = config.imgLatentDim
        matrices.append(WeightMatrix(
            tensor: matrices[vision].tensor, firstElement: 0, stride: img, transposed: true, scale: 1,
            inputs: d, outputs: img, packedOffset: take(fk_gemm_packed_count(d, img))))
        visionTransposed = matrices.count - 1
        var blocks: [BlockWeights] = []
        for block in model.blocks {
            let attention = block.attention
            let inProj = source(attention.inProjWeight)
            let inBias = attention.inProjBias
            let keyHeads = (0..<heads).map { h -> Int in
                // Rows d + h·dh ..< d + (h+1)·dh of in_proj_weight form Wk_h (dh × d): the (dh → d)
                // map x ↦ x·Wk_h/√dh: read by fk_gemm_io (in = dh, out = d, scaled on the fly) or packed
                // with fk_gemm_pack_io, then scaled.
                matrices.append(WeightMatrix(
                    tensor: inProj, firstElement: (d + h * dh) * d, stride: d, transposed: true, scale: keyScale,
                    inputs: dh, outputs: d, packedOffset: take(fk_gemm_packed_count(dh, d))))
                return matrices.count - 1
            }
            blocks.append(BlockWeights(
                query: matrix(inProj, rows: 0..<d),
                queryBias: inBias.map { vector($0, range: 0..<d) },
                keyHeads: keyHeads,
                key: matrix(inProj, rows: d..<(2 * d)),
                keyBias: inBias.map { vector($0, range: d..<(2 * d)) },
                value: matrix(inProj, rows: (2 * d)..<(3 * d)),
                valueBias: inBias.map { vector($0, range: (2 * d)..<(3 * d)) },
                output: matrix(source(attention.outProj.weight)),
                outputBias: attention.outProj.bias.map { vector($0) },
                expand: matrix(source(block.feedForward.expand.weight)),
                expandBias: vector(block.feedForward.expand.bias!),
                contract: matrix(source(block.feedForward.contract.weight)),
                contractBias: vector(block.feedForward.contract.bias!),
                norm1: (vector(block.norm1.weight), vector(block.norm1.bias)),
                norm2: (vector(block.norm2.weight), vector(block.norm2.bias))))
        }
        self.blocks = blocks
        finalNorm = model.finalNorm.map { (vector($0.weight), vector($0.bias)) }
        self.config = config
        self.tensors = tensors
        self.matrices = matrices
        packed = [Bool](repeating: false, count: matrices.count)
        uses = [Int](repeating: 0, count: matrices.count)
        arena = AlignedFloats(count: total)
        arena.withPointer { base in
            for (tensor, first, slot) in vectors {
                tensor.withUnsafeBufferPointer { values in
                    (base + slot.offset).update(from: values.baseAddress! + first, count: slot.count)
                }
            }
        }
    }

    /// Bytes the packed copies take once every matrix is packed.
    var packedByteCount: Int {
        matrices.reduce(0) { $0 + fk_gemm_packed_count($1.inputs, $1.outputs) } * MemoryLayout<Float>.stride
    }

    /// Matrices packed so far.
    var packedCount: Int {
        lock.withLock { packed.filter { $0 }.count }
    }

    /// Records a use of `matrices[indices]` by GEMMs of `rows` rows and packs, on `pool`, those that
    /// should be packed now (see the type's discussion; `rows` = `Int.max` packs everything).
    /// Returns, per index, whether the packed copy is to be used, and the seconds spent packing.
    /// - Parameter tensorBases: the first float of every tensor in ``tensors`` (borrowed).
    func prepare(
        _ indices: [Int], rows: Int, pool: KernelPool, arenaBase: UnsafeMutablePointer<Float>,
        tensorBases: [UnsafeRawPointer]
    ) -> (usePacked: [Bool], seconds: Double) {
        // One lock around deciding and packing: a concurrent call that finds a matrix marked packed
        // must not read the copy before it is written.
        lock.lock()
        defer { lock.unlock() }
        let clock = ContinuousClock()
        let start = clock.now
        var toPack: [Int] = []
        let packEverything = rows == Int.max
        let usePacked: [Bool] = indices.map { index in
            // Batched GEMMs pack blocks on the fly; only few-row uses count towards packing a copy.
            guard packEverything || rows < Self.blockedRows else { return packed[index] }
            uses[index] += 1
            if !packed[index] && (packEverything || uses[index] >= 2) {
                packed[index] = true
                toPack.append(index)
            }
            return packed[index]
        }
        guard !toPack.isEmpty else { return (usePacked, 0) }
        // Cut every matrix to pack into ranges of 8 panels (128 outputs) and pack them in parallel.
        var pieces: [(matrix: Int, panels: Range<Int>)] = []
        for index in toPack {
            let panels = ceilDiv(matrices[index].outputs, 16)
            for first in Swift.stride(from: 0, to: panels, by: 8) {
                pieces.append((index, first..<min(panels, first + 8)))
            }
        }
        pieces.withUnsafeBufferPointer { pieces in
            pool.run(tasks: pieces.count) { task, _ in
                let (index, panels) = pieces[task]
                let m = matrices[index]
                let source = tensorBases[m.tensor] + m.firstElement * MemoryLayout<Float>.size
                if m.transposed {
                    fk_gemm_pack_io_panels(
                        source, m.stride, m.inputs, m.outputs, arenaBase + m.packedOffset,
                        panels.lowerBound, panels.upperBound)
                    if m.scale != 1 {
                        let first = arenaBase + m.packedOffset + panels.lowerBound * m.inputs * 16
                        for i in 0..<(panels.count * m.inputs * 16) {
                            first[i] *= m.scale
                        }
                    }
                } else {
                    fk_gemm_pack_oi_panels(
                        source, m.stride, m.outputs, m.inputs, arenaBase + m.packedOffset,
                        panels.lowerBound, panels.upperBound)
                }
            }
        }
        return (usePacked, seconds(clock.now - start))
    }

    /// The GEMM operands of `matrices[indices]` for GEMMs of `rows` rows: packed copies where
    /// ``prepare(_:rows:pool:arenaBase:tensorBases:)`` says so (packing them now if due, the time
    /// added to `packing`), the tensors in place otherwise.
    func operands(
        _ indices: [Int], rows: Int, pool: KernelPool, arena: UnsafeMutablePointer<Float>,
        tensorBases: [UnsafeRawPointer], packing: PackingClock
    ) -> [GemmWeight] {
        let prepared = prepare(indices, rows: rows, pool: pool, arenaBase: arena, tensorBases: tensorBases)
        packing.seconds += prepared.seconds
        return zip(indices, prepared.usePacked).map { index, usePacked in
            let m = matrices[index]
            if usePacked {
                return .packed(arena + m.packedOffset)
            }
            let source = tensorBases[m.tensor] + m.firstElement * MemoryLayout<Float>.size
            if rows >= Self.blockedRows {
                return .blocked(source, ld: m.stride, transposed: m.transposed, scale: m.scale)
            }
            return m.transposed
                ? .unpackedTransposed(source, ldb: m.stride, scale: m.scale)
                : .unpacked(source, ldw: m.stride)
        }
    }

    /// Packs every matrix now (for callers that will run many batches).
    func packAll(pool: KernelPool) -> Double {
        arena.withPointer { base in
            withTensorBases { bases in
                prepare(Array(matrices.indices), rows: Int.max, pool: pool, arenaBase: base, tensorBases: bases).seconds
            }
        }
    }

    /// Calls `body` with the address of element 0 of every tensor in ``tensors`` (any alignment: the
    /// kernels read weights bytewise), nesting one `withUnsafeRawElements` per tensor so that every
    /// pointer stays inside its closure.
    func withTensorBases<R>(_ body: ([UnsafeRawPointer]) throws -> R) rethrows -> R {
        func nest(_ index: Int, _ collected: [UnsafeRawPointer]) throws -> R {
            if index == tensors.count {
                return try body(collected)
            }
            return try tensors[index].withUnsafeRawElements { base in
                try nest(index + 1, collected + [base])
            }
        }
        return try nest(0, [])
    }
}
