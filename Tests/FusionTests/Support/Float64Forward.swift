import Foundation
@testable import Fusion

/// An independent float64 implementation of the per-sample computation of docs/model.md, used as the
/// "better reference" for the float32 path. Written from docs/model.md, not from the library's code.
enum Float64Forward {
    /// Steps 2–6 of docs/model.md for one sample: pooled text t (txt), `validTokens` image tokens (row-major).
    static func fuse(model: FusionModel, text t: [Float], images: [Float], validTokens s: Int)
        -> (output: [Double], weights: [[Double]])
    {
        let c = model.config
        let d = c.projDim
        let heads = c.nHeads
        let dh = d / heads
        func linear(_ w: Tensor, _ b: Tensor?, _ x: [Double]) -> [Double] {
            let rows = w.shape[0]
            let cols = w.shape[1]
            return (0..<rows).map { r in
                var sum = 0.0
                for k in 0..<cols { sum += Double(w.values[r * cols + k]) * x[k] }
                return sum + (b.map { Double($0.values[r]) } ?? 0)
            }
        }
        func norm(_ n: LayerNorm, _ x: [Double]) -> [Double] {
            let mean = x.reduce(0, +) / Double(x.count)
            let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)
            let scale = 1 / (variance + Double(n.eps)).squareRoot()
            return x.indices.map { (x[$0] - mean) * scale * Double(n.weight.values[$0]) + Double(n.bias.values[$0]) }
        }
        func act(_ x: Double) -> Double {
            switch c.activation {
            case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
            case .geluTanh: return 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
            case .relu: return max(x, 0)
            }
        }
        var q = linear(model.textProjection.weight, nil, t.map(Double.init))
        let x: [[Double]] = (0..<s).map { j in
            linear(model.visionProjection.weight, nil, images[(j * c.imgLatentDim)..<((j + 1) * c.imgLatentDim)].map(Double.init))
        }
        var allWeights: [[Double]] = []
        for block in model.blocks {
            let a = block.attention
            func part(_ p: Int) -> (Tensor, Tensor?) {
                let w = Tensor(shape: [d, d], values: Array(a.inProjWeight.values[(p * d * d)..<((p + 1) * d * d)]))
                let b = a.inProjBias.map { Tensor(shape: [d], values: Array($0.values[(p * d)..<((p + 1) * d)])) }
                return (w, b)
            }
            func attend(_ query: [Double]) -> [Double] {
                let (wq, bq) = part(0)
                let (wk, bk) = part(1)
                let (wv, bv) = part(2)
                let qp = linear(wq, bq, query)
                let keys = x.map { linear(wk, bk, $0) }
                let values = x.map { linear(wv, bv, $0) }
                var concatenated = [Double](repeating: 0, count: d)
                var weights: [Double] = []
                for h in 0..<heads {
                    let scores = keys.map { key in
                        (0..<dh).reduce(0.0) { $0 + qp[h * dh + $1] * key[h * dh + $1] } / Double(dh).squareRoot()
                    }
                    let top = scores.max()!
                    let exps = scores.map { exp($0 - top) }
                    let total = exps.reduce(0, +)
                    let w = exps.map { $0 / total }
                    weights += w
                    for k in 0..<dh {
                        concatenated[h * dh + k] = (0..<s).reduce(0.0) { $0 + w[$1] * values[$1][h * dh + k] }
                    }
                }
                allWeights.append(weights)
                return linear(a.outProj.weight, a.outProj.bias, concatenated)
            }
            func ffn(_ v: [Double]) -> [Double] {
                let hidden = linear(block.feedForward.expand.weight, block.feedForward.expand.bias, v).map(act)
                return linear(block.feedForward.contract.weight, block.feedForward.contract.bias, hidden)
            }
            func plus(_ u: [Double], _ v: [Double]) -> [Double] { zip(u, v).map { $0 + $1 } }
            if block.normFirst {
                q = plus(q, attend(norm(block.norm1, q)))
                q = plus(q, ffn(norm(block.norm2, q)))
            } else {
                q = norm(block.norm1, plus(q, attend(q)))
                q = norm(block.norm2, plus(q, ffn(q)))
            }
        }
        if let f = model.finalNorm {
            q = norm(f, q)
        }
        return (q, allWeights)
    }
}

/// The largest |a[i] − b[i]| and its index.
func maxAbsError(_ a: [Float], _ b: [Double]) -> (error: Double, index: Int) {
    precondition(a.count == b.count, "maxAbsError: lengths \(a.count) and \(b.count)")
    var worst = (error: 0.0, index: -1)
    for i in a.indices {
        let e = abs(Double(a[i]) - b[i])
        if e > worst.error || e.isNaN { worst = (e, i) }
    }
    return worst
}
