import Foundation
import TestSupport
import NpyIO
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Inputs that are not regular .npy/.npz files: a folder, an empty file, a device, a FIFO with and
/// without a writer. fusectl reads regular files (memory-mapped), FIFOs (named pipes, `<(command)`)
/// once a writer has opened them, and '-'; everything else is refused with the exact error.
@Suite struct FaultInputTests {
    private func expectCleanFailure(_ outcome: FaultOutcome, _ message: String, workspace w: TinyWorkspace,
                                    sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcome.exitStatus == 1, "\(outcome.summary): \(outcome.stderr)",
                sourceLocation: sourceLocation)
        #expect(outcome.stderr == message + "\n", sourceLocation: sourceLocation)
        #expect(!w.outputExists, "a failed run left out.npy behind", sourceLocation: sourceLocation)
        #expect(temporaryFiles(in: w.folder.url.path).isEmpty, sourceLocation: sourceLocation)
    }

    private func fuse(_ w: TinyWorkspace, text: String? = nil, weights: String? = nil,
                      environment: [String: String] = [:]) throws -> FaultOutcome {
        try FaultProcess.run(
            ["fuse", "--weights", weights ?? w.folder.path("w.npz"), "--text", text ?? w.folder.path("text.npy"),
             "--images", w.folder.path("images.npy"), "--out", w.folder.path("out.npy")],
            folder: w.folder, environment: environment)
    }

    @Test func aFolder() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let dir = w.folder.path("dir")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        let message = "\(dir): is a directory, expected a .npy or .npz file"
        expectCleanFailure(try fuse(w, text: dir), "fusectl fuse: error: \(message)", workspace: w)
        expectCleanFailure(try fuse(w, weights: dir), "fusectl fuse: error: \(message)", workspace: w)
        expectCleanFailure(try FaultProcess.run(["inspect", dir], folder: w.folder), "fusectl inspect: error: \(message)", workspace: w)
    }

    @Test func anEmptyFile() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let empty = w.folder.path("empty.npy")
        try #require(FileManager.default.createFile(atPath: empty, contents: Data()))
        expectCleanFailure(try fuse(w, text: empty), "fusectl fuse: error: \(empty): empty file; expected a .npy or .npz file", workspace: w)
        expectCleanFailure(try fuse(w, weights: empty), "fusectl fuse: error: \(empty): empty file; expected a .npy, .npz or .safetensors file", workspace: w)
        expectCleanFailure(try FaultProcess.run(["inspect", empty], folder: w.folder),
                           "fusectl inspect: error: \(empty): empty file; expected a .npy, .npz or .safetensors file", workspace: w)
    }

    /// /dev/zero would never end and /dev/null is no array: devices are refused before any read.
    @Test(arguments: ["/dev/zero", "/dev/null"])
    func aCharacterDevice(_ device: String) throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let message = "\(device): is a character device; expected a regular file, a pipe or '-' (standard input)"
        expectCleanFailure(try fuse(w, text: device), "fusectl fuse: error: \(message)", workspace: w)
        expectCleanFailure(try FaultProcess.run(["inspect", device], folder: w.folder), "fusectl inspect: error: \(message)", workspace: w)
    }

    /// A FIFO nobody opens for writing: an error after FUSECTL_FIFO_WAIT seconds, never a hang.
    @Test func aFIFOWithoutAWriter() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let fifo = w.folder.path("text.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let started = Date()
        let outcome = try fuse(w, text: fifo, environment: ["FUSECTL_FIFO_WAIT": "0.5"])
        let elapsed = Date().timeIntervalSince(started)
        expectCleanFailure(outcome, "fusectl fuse: error: \(fifo): is a FIFO that nothing wrote to: no writer opened it within 0.5 s (FUSECTL_FIFO_WAIT sets the wait)",
                           workspace: w)
        #expect(elapsed < 20, "took \(elapsed) s")
    }

    /// A FIFO with a writer, whether the writer comes first or after fusectl opened it, is read to its end.
    @Test func aFIFOWithAWriterIsRead() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let reference = try fuse(w)
        #expect(reference.exitStatus == 0, "\(reference.stderr)")
        let expected = try Data(contentsOf: URL(fileURLWithPath: w.folder.path("out.npy")))
        try FileManager.default.removeItem(atPath: w.folder.path("out.npy"))

        let fifo = w.folder.path("text.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let text = try Data(contentsOf: URL(fileURLWithPath: w.folder.path("text.npy")))
        let process = try FaultProcess(
            ["fuse", "--weights", w.folder.path("w.npz"), "--text", fifo, "--images", w.folder.path("images.npy"),
             "--out", w.folder.path("out.npy")], folder: w.folder)
        usleep(200_000)  // fusectl is waiting for a writer by now
        let writer = open(fifo, O_WRONLY | O_CLOEXEC)
        #expect(writer >= 0)
        text.withUnsafeBytes { _ = write(writer, $0.baseAddress, $0.count) }
        close(writer)
        let outcome = try process.wait()
        #expect(outcome.exitStatus == 0, "\(outcome.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: w.folder.path("out.npy"))) == expected)
    }
}
