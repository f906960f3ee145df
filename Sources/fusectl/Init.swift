import ArgumentParser
import Foundation
import Fusion
import FusionJobs
import NpyIO

/// `fusectl init`: a weights file with the reference's initialisation, without PyTorch.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a freshly initialised weights .npz for a configuration.",
        discussion: """
            The tensors follow the PyTorch reference's initialisation (Linear: kaiming-uniform, attention \
            input projection: xavier-uniform, biases as PyTorch sets them, LayerNorm: ones and zeros), drawn \
            from fusectl's own seeded generator: the same seed always gives the same file, though not the \
            numbers PyTorch's generator would draw. The configuration is stored as the 'config' member. \
            Stored members start at 64-byte aligned offsets (zip extra-field padding that numpy ignores), so \
            that 'fuse' reads float32 weights in place from the file's memory map instead of copying them. \
            Sizes are bounded (dimensions up to 1048576, n_blocks up to 4096) and a model whose weights would \
            not fit in the machine's memory is refused before anything is allocated.

            Example:
              echo '{"proj_dim": 256, "n_blocks": 2}' > small.json
              fusectl init --config small.json --seed 7 --out small.npz
            """
    )

    @Option(help: ArgumentHelp("A JSON configuration; keys not given take the defaults of docs/model.md. Omit for all defaults.", valueName: "file"))
    var config: String?

    @Option(help: "The seed of the generator.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Where to write the weights .npz ('-' for standard output).", valueName: "file"))
    var out: String

    @Option(help: "The dtype of the stored tensors: float16, float32 or float64.")
    var dtype: OutputDType = .float32

    @Flag(help: "Deflate the members (np.savez_compressed) instead of storing them.")
    var compressed = false

    func validate() throws {
        try checkNoOutputIsAnInput(outputs: [RunFile(label: "--out", path: out)],
                                   inputs: config.map { [RunFile(label: "--config", path: $0)] } ?? [])
    }

    func run() throws {
        do {
            let configuration = try config.map { try FusionConfig.decode(json: try readText(path: $0), origin: $0) }
                ?? FusionConfig.decode(json: "{}", origin: "defaults")
            // The float32 tensors and their stored copies must fit in memory: refuse before allocating.
            try configuration.checkWeightsFit(
                bytesPerWeight: 4 + dtype.dtype.itemSize, limit: Int(clamping: ProcessInfo.processInfo.physicalMemory),
                origin: config ?? "defaults")
            // Stored members 64-byte aligned: `fuse` then reads float32 weights in place from the map.
            var writer = NpzWriter(compression: compressed ? .deflated : .stored, alignment: 64)
            for (key, tensor) in WeightInitializer.stateDict(config: configuration, seed: seed) {
                writer.add(key, try NpyArray(float32: tensor.values, shape: tensor.shape).converted(to: dtype.dtype))
            }
            writer.add("config", NpyArray(string: configuration.jsonString()))
            try writer.write(to: out)
        } catch {
            throw failure("init", error)
        }
    }
}
