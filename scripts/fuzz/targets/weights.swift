import Fusion
import NpyIO

// Target `weights`: the weights loader. The input is a weights .npz; it is loaded against the fixed
// configuration (FusionModel.load(from:prefix:nil, configJSON: fuzzConfigJSON)) and, when it has a
// `config` member, with that configuration too. A model that loads runs a forward pass on a small
// fixed batch.

/// A fixed batch for whatever configuration loaded: B 2, L 2, T 3; image lengths 3 and 1.
private func fixedInputs(for model: FusionModel) -> FusionInputs? {
    let config = model.config
    guard config.txtLatentDim <= 256, config.imgLatentDim <= 256 else { return nil }
    let text = NpyArray(float32: (0..<(2 * 2 * config.txtLatentDim)).map { Float($0 % 5) / 5 - 0.3 },
                        shape: [2, 2, config.txtLatentDim])
    let images = NpyArray(float32: (0..<(2 * 3 * config.imgLatentDim)).map { Float($0 % 7) / 7 - 0.5 },
                          shape: [2, 3, config.imgLatentDim])
    return try? FusionInputs(text: text, images: images, textLengths: [2, 1], textMask: nil,
                             imageLengths: [3, 1], model: model)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let archive: NpzArchive
    do {
        archive = try NpzArchive(bytes: fuzzBytes(data, size), origin: "fuzz-weights.npz")
    } catch {
        trace("\(error)")
        return 0
    }
    var models: [FusionModel] = []
    do {
        let model = try FusionModel.load(from: archive, prefix: nil, configJSON: fuzzConfigJSON)
        precondition(model.config == fuzzModel.config, "the fixed configuration came back as \(model.config)")
        models.append(model)
        trace("loaded with the fixed configuration")
    } catch {
        trace("fixed configuration: \(error)")
    }
    if archive.contains("config") {
        do {
            models.append(try FusionModel.load(from: archive, prefix: nil, configJSON: nil))
            trace("loaded with its own configuration")
        } catch {
            trace("own configuration: \(error)")
        }
    }
    for model in models {
        // a config member can describe a large model only with tensors of that size, which the
        // input's length bounds; the forward pass is skipped past the caps all the same
        let config = model.config
        guard config.projDim * max(config.ffnDim, config.projDim) * config.nBlocks <= 1 << 16,
              let inputs = fixedInputs(for: model) else { continue }
        fuzzForward(model, inputs)
    }
    return 0
}
