import ArgumentParser
import Fusion
import FusionJobs
import NpyIO

/// `fusectl stream`: fusion for a live agent, one frame in, one vector out.
struct Stream: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fuse a live episode: read frames from stdin, write one fused vector per frame to stdout.",
        discussion: """
            Standard input is a sequence of .npy arrays written back to back (what repeated \
            numpy.save(f, frame) on one file object writes). Each frame is (img_latent_dim,) or \
            (P, img_latent_dim); for each one, fusectl writes the fused vector for the history so far, a \
            (d,) float32 .npy, to standard output and flushes it. With --attention it then writes that \
            step's attention weights, (N, H, frames*P). A 0-d string array "reset" starts a new episode \
            with the same instruction. End of input ends the process with status 0; a malformed array \
            ends it with an error on standard error and status 1.

            The vector at step t is bit-identical to 'fusectl fuse --plan x-formed' in plain mode on \
            frames 0..t (or on the last --window frames): a session runs plan A. The automatic plan of \
            'fuse' may pick another exact plan, which agrees within float32 rounding (1e-5).

            Python side: numpy.load cannot read a pipe (it seeks), and numpy.save/read_array given the \
            pipe's file object ask for its position; go through bytes and an object with only 'read':
              p = subprocess.Popen(
                  ["fusectl", "stream", "--weights", "w.npz", "--text", "instr.npy"],
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
              reader = types.SimpleNamespace(read=p.stdout.read)
              b = io.BytesIO(); numpy.save(b, frame)
              p.stdin.write(b.getvalue()); p.stdin.flush()
              fused = numpy.lib.format.read_array(reader)
            See scripts/agent_loop_example.py.
            """
    )

    @OptionGroup(title: "Model")
    var model: ModelOptions

    @Option(help: ArgumentHelp("The one instruction: (L, txt_latent_dim) token latents (or (1, L, txt_latent_dim)) or (txt_latent_dim) pooled.", valueName: "file"))
    var text: String

    @Option(help: ArgumentHelp("The instruction's mask, (L,): nonzero marks a real token.", valueName: "file"))
    var textMask: String?

    @Option(help: ArgumentHelp("Keep only the most recent N frames (the agent's context).", valueName: "N"))
    var window: Int?

    @Flag(help: "After each vector, also write that step's attention weights.")
    var attention = false

    func validate() throws {
        if let window, window < 1 { throw ValidationError("--window must be at least 1.") }
        if [model.weights, text, textMask, model.config].contains("-") {
            throw ValidationError("Standard input carries the frames; give --weights, --text, --text-mask and --config as files.")
        }
    }

    func run() throws {
        do {
            let fusionModel = try model.loadModel()
            let instruction = try InputFiles.readArray(path: text)
            try InputFiles.checkLatents(instruction, input: "text")
            let session = try FusionSession(
                model: fusionModel, text: instruction,
                textMask: try textMask.map { try InputFiles.readArray(path: $0) }, maxFrames: window)
            let reader = NpyStreamReader(fileDescriptor: 0, origin: "<stdin>")
            while let array = try reader.next() {
                if !array.dtype.isNumeric {
                    let command = try array.stringScalar()
                    guard command == "reset" else {
                        throw StreamError(message: "<stdin>: unknown command \"\(command)\" (expected \"reset\")")
                    }
                    session.reset()
                    continue
                }
                let step = try session.append(frame: array, attention: attention)
                try writeNpy(NpyArray(float32: step.output, shape: [step.output.count]), toFileDescriptor: 1)
                if let maps = step.attention {
                    try writeNpy(NpyArray(float32: maps.values, shape: maps.shape), toFileDescriptor: 1)
                }
            }
        } catch {
            throw failure("stream", error)
        }
    }
}

struct StreamError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
