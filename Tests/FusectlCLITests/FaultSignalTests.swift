import Foundation
import TestSupport
import NpyIO
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Signals during a single `fuse` run. The run is stalled deterministically on a FIFO input whose
/// writer the test holds open: fusectl has mapped the inputs before it and reads the FIFO to its end.
@Suite struct FaultSignalTests {
    /// Starts `fuse` with --text-lengths read from a FIFO and returns the process and the FIFO's write
    /// end, open (fusectl has mapped text and images by then and blocks reading the FIFO).
    private func stalledFuse(_ w: TinyWorkspace, images: String) throws -> (FaultProcess, Int32) {
        let fifo = w.folder.path("lengths.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let process = try FaultProcess(
            ["fuse", "--weights", w.folder.path("w.npz"), "--text", w.folder.path("text.npy"), "--images", images,
             "--text-lengths", fifo, "--out", w.folder.path("out.npy")], folder: w.folder)
        let writer = open(fifo, O_WRONLY | O_CLOEXEC)  // returns once fusectl opened the FIFO, after mapping the images
        #expect(writer >= 0)
        usleep(100_000)  // let it reach the blocking read
        return (process, writer)
    }

    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func aSignalEndsASingleRunWithoutOutput(_ signal: Int32) throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let (process, writer) = try stalledFuse(w, images: w.folder.path("images.npy"))
        kill(process.pid, signal)
        let outcome = try process.wait()
        close(writer)
        #expect(outcome.signal == signal, "\(outcome.summary)")
        #expect(outcome.stderr == "fusectl: interrupted; unfinished output files were removed\n")
        #expect(!w.outputExists)
        #expect(temporaryFiles(in: w.folder.url.path).isEmpty)
    }

    /// The images file is truncated to 0 bytes while mapped: touching its data raises SIGBUS, which
    /// fusectl reports naming the file, with status 1 and no output.
    @Test func anInputTruncatedWhileMapped() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        // 3 × 2000 frames × 5 floats: 120 kB, dozens of pages past the header
        let images = w.folder.path("big-images.npy")
        try w.save("big-images.npy", (0..<(3 * 2000 * 5)).map { Float($0 % 13) / 13 }, [3, 2000, 5])
        let (process, writer) = try stalledFuse(w, images: images)
        #expect(truncate(images, 0) == 0)
        let lengths = NpyFile.encode(NpyArray(int64: [2, 1, 2], shape: [3]))
        lengths.withUnsafeBytes { _ = write(writer, $0.baseAddress, $0.count) }
        close(writer)
        let outcome = try process.wait()
        #expect(outcome.exitStatus == 1, "\(outcome.summary): \(outcome.stderr)")
        #expect(outcome.stderr == "fusectl: error: \(images): the file shrank while it was being read (SIGBUS in its memory map); unfinished output files were removed\n")
        #expect(!w.outputExists)
        #expect(temporaryFiles(in: w.folder.url.path).isEmpty)
    }
}
