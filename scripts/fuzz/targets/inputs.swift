#if canImport(Glibc)
import Glibc
#endif
import Fusion
import FusionJobs
import NpyIO

// Target `inputs`: `fuse --batch` input validation. The input is a batch bundle .npz (members text,
// images, text_lengths, text_mask, image_lengths), written to a scratch file and opened as the CLI does
// (InputFiles(batch:).load(model:), memory-mapped) against the tiny fuzz model, then checkFinite() and,
// for small batches, the reference forward pass.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let path = scratchFile(fuzzBytes(data, size), suffix: ".npz")
    defer { unlink(path) }
    let inputs: FusionInputs
    do {
        inputs = try InputFiles(batch: path).load(model: fuzzModel)
    } catch {
        trace("\(error)")
        return 0
    }
    precondition(inputs.pooledTextIndex.count == inputs.batchSize && inputs.imageLengths.count == inputs.batchSize,
                 "resolved per-sample tables do not have B = \(inputs.batchSize) entries")
    for b in 0..<inputs.batchSize {
        precondition((1...inputs.frames).contains(inputs.imageLengths[b]), "image length \(inputs.imageLengths[b]) of sample \(b) outside 1…T")
        precondition((0..<(inputs.textTokens ?? 1)).contains(inputs.pooledTextIndex[b]), "pooled index of sample \(b) outside 0..<L")
    }
    do {
        try inputs.checkFinite()
    } catch {
        trace("\(error)")
        return 0
    }
    trace("valid batch of \(inputs.batchSize), T \(inputs.frames), P \(inputs.tokensPerFrame)")
    fuzzForward(fuzzModel, inputs)
    return 0
}
