import Foundation
import Testing
@testable import NpyIO

@Suite struct NpyStreamReaderTests {
    /// Writes `bytes` into a pipe from a background thread and returns the read end.
    func pipe(with bytes: [UInt8]) -> Int32 {
        var fds: [Int32] = [0, 0]
        precondition(Glibc.pipe(&fds) == 0)
        let writeEnd = fds[1]
        Thread.detachNewThread {
            bytes.withUnsafeBytes { _ = try? FileDescriptorIO.writeAll(writeEnd, $0, name: "pipe") }
            close(writeEnd)
        }
        return fds[0]
    }

    @Test func readsArraysBackToBackUntilCleanEOF() throws {
        let a = NpyArray(float32: [1, 2, 3], shape: [3])
        let b = NpyArray(int64: [7, 8, 9, 10], shape: [2, 2])
        let c = NpyArray(float64: [Double](repeating: 0.5, count: 300_000), shape: [300_000])  // > pipe buffer
        let fd = pipe(with: NpyFile.encode(a) + NpyFile.encode(b) + NpyFile.encode(c))
        defer { close(fd) }
        let reader = NpyStreamReader(fileDescriptor: fd, origin: "<stdin>")
        #expect(try reader.next()?.float32Elements() == [1, 2, 3])
        let second = try #require(try reader.next())
        #expect(second.shape == [2, 2])
        #expect(try second.intElements() == [7, 8, 9, 10])
        #expect(second.origin == "<stdin>")
        #expect(try reader.next()?.count == 300_000)
        #expect(try reader.next() == nil)
        #expect(reader.arraysRead == 3)
    }

    @Test func truncationIsAnErrorWithTheStreamOffset() throws {
        let a = NpyFile.encode(NpyArray(float32: [1, 2, 3], shape: [3]))
        let fd = pipe(with: a + Array(a.prefix(a.count - 2)))
        defer { close(fd) }
        let reader = NpyStreamReader(fileDescriptor: fd, origin: "<stdin>")
        _ = try reader.next()
        #expect(throws: NpyError(file: "<stdin>", offset: 278, message: "truncated: array 1 of shape (3,) and float32 needs 12 data bytes, the stream ended after 10")) {
            try reader.next()
        }
        let partial = pipe(with: Array(a.prefix(5)))
        defer { close(partial) }
        #expect(throws: NpyError(file: "<stdin>", offset: 5, message: "truncated: array 0 ends inside its preamble after 5 bytes")) {
            try NpyStreamReader(fileDescriptor: partial, origin: "<stdin>").next()
        }
        let garbage = pipe(with: Array("hello world!".utf8))
        defer { close(garbage) }
        #expect(throws: NpyError(file: "<stdin>", offset: 0, message: "not a .npy file: expected the magic \\x93NUMPY, found 'hello '")) {
            try NpyStreamReader(fileDescriptor: garbage, origin: "<stdin>").next()
        }
    }

    @Test func writeNpyReportsEPIPE() throws {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [0, 0]
        #expect(Glibc.pipe(&fds) == 0)
        close(fds[0])
        defer { close(fds[1]) }
        #expect(throws: NpyError(file: "<fd \(fds[1])>", message: "write failed: the reader closed the pipe (EPIPE) after 0 of 128 bytes")) {
            try writeNpy(NpyArray(float32: [1], shape: [1]), toFileDescriptor: fds[1])
        }
    }
}
