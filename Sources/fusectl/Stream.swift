import ArgumentParser
import Fusion
import FusionJobs
import NpyIO

/// `fusectl stream`: fusion for live agents, one frame (or one frame per agent) in, one vector out.
struct Stream: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fuse live episodes: read frames from stdin, write one fused vector per frame to stdout.",
        discussion: """
            Standard input is a sequence of .npy arrays written back to back (what repeated \
            numpy.save(f, frame) on one file object writes); standard output is one .npy answer per \
            input array, flushed, in order. A frame (img_latent_dim,) or (P, img_latent_dim), float16, \
            float32 or float64, is answered by the fused vector for the history so far, a (d,) float32 \
            array (with --attention, followed by that step's attention weights, (N, H, frames*P)). With \
            --agents E, the instructions are (E, L, txt_latent_dim) or (E, txt_latent_dim), each frame \
            array holds one frame per agent, (E, img_latent_dim) or (E, P, img_latent_dim), and each \
            answer is (E, d): the agents step together, so a step reads the weights once for all of \
            them, and agent i's vectors are bit-identical to a stream of its own.

            Commands are 0-d string arrays (numpy.array("reset")): "reset" starts a new episode \
            (every agent's; "reset I" agent I's only) and is answered "ok: reset" ("ok: reset I"); \
            "text" ("text I") takes the next array as the new instruction, (L, txt_latent_dim) or \
            (txt_latent_dim,), starts a new episode with it and is answered "ok: text" ("ok: text I"). \
            A frame or command that cannot be used (a wrong shape or dtype, NaN, an unknown command) is \
            answered by a 0-d string array "error: MESSAGE" (the CLI's message); the session and its \
            history are unchanged. A reader tells answers apart by dtype: float32 for vectors, a string \
            for "ok: ..." and "error: ...". End of input ends the process with status 0; bytes that are \
            not a .npy array end it with an error on standard error and status 1. See docs/stream.md.

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
            In-process, the Python package does the same without a pipe (docs/in-process.md).
            """
    )

    @OptionGroup(title: "Model")
    var model: ModelOptions

    @Option(help: ArgumentHelp("The instruction: (L, txt_latent_dim) token latents (or (1, L, txt_latent_dim)) or (txt_latent_dim) pooled; with --agents E, (E, L, txt_latent_dim) or (E, txt_latent_dim).", valueName: "file"))
    var text: String

    @Option(help: ArgumentHelp("The instruction's mask, (L,) (with --agents, (E, L)): nonzero marks a real token.", valueName: "file"))
    var textMask: String?

    @Option(help: ArgumentHelp("Keep only the most recent N frames (the agent's context).", valueName: "N"))
    var window: Int?

    @Option(help: ArgumentHelp("Step E agents together: each input frame array is (E, img_latent_dim) or (E, P, img_latent_dim), each answer (E, d).", valueName: "E"))
    var agents: Int?

    @Option(help: "Worker threads (0: every CPU this process may use). Results do not depend on it.")
    var threads: Int = 0

    @Flag(help: "After each vector, also write that step's attention weights (one agent only).")
    var attention = false

    func validate() throws {
        if let window, window < 1 { throw ValidationError("--window must be at least 1.") }
        if let agents, agents < 1 { throw ValidationError("--agents must be at least 1.") }
        if agents != nil && attention { throw ValidationError("--attention applies to one agent; leave out --agents.") }
        if threads < 0 { throw ValidationError("--threads must be 0 (every CPU) or more.") }
        if [model.weights, text, textMask, model.config].contains("-") {
            throw ValidationError("Standard input carries the frames; give --weights, --text, --text-mask and --config as files.")
        }
    }

    func run() throws {
        do {
            let engine = FusionEngine(model: try model.loadModel(), threads: threads)
            let instruction = try InputFiles.readArray(path: text)
            try InputFiles.checkLatents(instruction, input: "text")
            let mask = try textMask.map { try InputFiles.readArray(path: $0) }
            var agent: StreamAgents
            do {
                if let agents {
                    guard instruction.shape.count >= 2, instruction.shape[0] == agents else {
                        throw StreamError(message: "text (\(text)): --agents \(agents) needs one instruction per agent, (\(agents), L, txt_latent_dim) or (\(agents), txt_latent_dim); found \(shapeText(instruction.shape))")
                    }
                    agent = .batch(try FusionSessionBatch(engine: engine, texts: instruction, textMask: mask, maxFrames: window))
                } else {
                    agent = .single(try FusionSession(engine: engine, text: instruction, textMask: mask, maxFrames: window))
                }
            } catch FusionError.invalidInput(let input, let sample, let detail) where input == "text" || input == "text_mask" {
                // The library names the input; the command line knows its file.
                let file = input == "text" ? text : textMask ?? ""
                throw FusionError.invalidInput(input: "\(input) (\(file))", sample: sample, detail: detail)
            }
            let reader = NpyStreamReader(fileDescriptor: 0, origin: "<stdin>")
            while let array = try reader.next() {
                let answers: [NpyArray]
                do {
                    answers = try respond(to: array, agent: &agent, reader: reader)
                } catch let error as InBandError {
                    answers = [NpyArray(string: "error: \(error.message)")]
                }
                for answer in answers {
                    try writeNpy(answer, toFileDescriptor: 1)
                }
            }
        } catch {
            throw failure("stream", error)
        }
    }

    /// The answers to one input array: a frame's vector (and maps), or a command's acknowledgement.
    /// - Throws: ``InBandError`` for anything the user sent that cannot be used (answered on stdout);
    ///   other errors (unreadable input) end the stream.
    private func respond(to array: NpyArray, agent: inout StreamAgents, reader: NpyStreamReader) throws -> [NpyArray] {
        guard array.dtype.isNumeric else {
            let command: String
            do {
                command = try array.stringScalar()
            } catch {
                throw InBandError(message: "<stdin>: expected a frame or a command (a 0-d string), found \(array.dtype) \(shapeText(array.shape))")
            }
            return [try run(command: command, agent: &agent, reader: reader)]
        }
        let input = agent.isBatch ? "frames" : "frame"
        guard array.dtype.isFloatingPoint else {
            throw InBandError(message: "\(input): expected float16, float32 or float64 values, found \(array.dtype) \(shapeText(array.shape))")
        }
        do {
            switch agent {
            case .single(let session):
                let step = try session.append(frame: array, attention: attention)
                var answers = [NpyArray(float32: step.output, shape: [step.output.count])]
                if let maps = step.attention { answers.append(NpyArray(float32: maps.values, shape: maps.shape)) }
                return answers
            case .batch(let batch):
                let vectors = try batch.step(frames: array)
                return [NpyArray(float32: vectors, shape: [batch.count, batch.model.config.projDim])]
            }
        } catch let error as FusionError {
            throw InBandError(message: error.description)
        } catch let error as NpyError {
            throw InBandError(message: error.description)
        }
    }

    /// Runs "reset", "reset I", "text" or "text I" (reading the instruction that follows) and returns
    /// the acknowledgement.
    private func run(command: String, agent: inout StreamAgents, reader: NpyStreamReader) throws -> NpyArray {
        let words = command.split(separator: " ").map(String.init)
        guard let verb = words.first, ["reset", "text"].contains(verb), words.count <= 2 else {
            throw InBandError(message: "<stdin>: unknown command \"\(command)\" (expected \"reset\", \"reset I\", \"text\" or \"text I\")")
        }
        var index: Int?
        if words.count == 2 {
            guard let number = Int(words[1]) else {
                throw InBandError(message: "<stdin>: command \"\(command)\": \"\(words[1])\" is not an agent number")
            }
            guard case .batch(let batch) = agent, (0..<batch.count).contains(number) else {
                let range = agent.count == 1 && !agent.isBatch ? "no agent numbers without --agents" : "agents are 0…\(agent.count - 1)"
                throw InBandError(message: "<stdin>: command \"\(command)\": \(range)")
            }
            index = number
        }
        var instruction: NpyArray?
        if verb == "text" {
            // The instruction follows the command; a missing one ends the stream like any truncated input.
            guard let next = try reader.next() else {
                throw StreamError(message: "<stdin>: command \"\(command)\" needs the instruction array after it, found the end of the input")
            }
            guard next.dtype.isFloatingPoint else {
                throw InBandError(message: "text: expected floating-point latents (float16, float32 or float64), found \(next.dtype) \(shapeText(next.shape))")
            }
            instruction = next
        }
        do {
            switch agent {
            case .single(let session):
                if let instruction {
                    agent = .single(try FusionSession(engine: session.engine, text: instruction, maxFrames: window))
                } else {
                    session.reset()
                }
            case .batch(let batch):
                for e in index.map({ [$0] }) ?? Array(0..<batch.count) {
                    try batch.reset(agent: e, text: instruction)
                }
            }
        } catch let error as FusionError {
            throw InBandError(message: error.description)
        }
        return NpyArray(string: "ok: " + command)
    }
}

/// The session(s) a stream steps: one agent (with attention maps) or E together.
private enum StreamAgents {
    case single(FusionSession)
    case batch(FusionSessionBatch)

    var isBatch: Bool {
        if case .batch = self { return true }
        return false
    }

    var count: Int {
        switch self {
        case .single: return 1
        case .batch(let batch): return batch.count
        }
    }
}

/// A frame or command the stream answers with "error: MESSAGE" and survives.
private struct InBandError: Error {
    var message: String
}

struct StreamError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
