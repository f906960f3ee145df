import Foundation
import Testing
import TestSupport
@testable import NpyIO

@Suite struct OutputFileTests {
    @Test func replacesAtomicallyAndLeavesNoTemporaryFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("a.npy")
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o640)
        let output = try OutputFile(path: path)
        #expect(output.mode == .atomic)
        try output.write(Array("new content".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")  // untouched until commit
        try output.commit()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new content")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["a.npy"])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o640)
    }

    @Test func failureRemovesTheTemporaryFileAndKeepsTheOldContent() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("b.npy")
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try OutputFile.write(to: path) { output in
                try output.write(Array("partial".utf8))
                throw Stop()
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["b.npy"])
    }

    @Test func specialFilesAreWrittenDirectly() throws {
        let null = try OutputFile(path: "/dev/null")
        #expect(null.mode == .direct)
        try null.write([1, 2, 3])
        try null.commit()
        #expect(throws: NpyError(file: "/dev/full", message: "write failed after 0 of 128 bytes: No space left on device")) {
            try NpyFile.write(NpyArray(float32: [1], shape: [1]), to: "/dev/full")
        }
    }

    @Test func missingFolderNamesThePath() {
        #expect(throws: NpyError(file: "/nonexistent-folder/x.npy", message: "cannot create a temporary file in '/nonexistent-folder/': No such file or directory")) {
            try NpyFile.write(NpyArray(float32: [1], shape: [1]), to: "/nonexistent-folder/x.npy")
        }
    }
}
