import Foundation
import NpyIO
import Testing
import TestSupport

/// `NpyArray.releaseResidentPages(elements:)`: dropping the pages of a consumed element range of a
/// memory-mapped array, without changing what the array reads.
@Suite struct ResidentPagesTests {
    /// The process's resident file-backed memory (RssFile) in bytes.
    static func residentFileBytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssFile:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    @Test func releasesWholePagesOfAMappedFileAndKeepsItsContents() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let values = (0..<(1 << 22)).map { Float($0 % 1000) }  // 16 MiB
        let path = folder.path("big.npy")
        try NpyFile.write(NpyArray(float32: values, shape: [1024, 4096]), to: path)
        let array = try NpyFile.read(path: path)
        let sum = { (range: Range<Int>) -> Double in
            try array.withFloat32Elements(in: range) { $0.reduce(0.0) { $0 + Double($1) } }
        }
        let expected = try sum(0..<array.count)  // touches every page
        let touched = Self.residentFileBytes()
        let released = array.releaseResidentPages(elements: 0..<array.count)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        // Every whole page inside the data (the header's page may be shared and stays).
        #expect(released >= array.byteCount - 2 * page, "released \(released) of \(array.byteCount) bytes")
        #expect(released % page == 0)
        #expect(Self.residentFileBytes() <= touched - released / 2,
                "RssFile \(touched) before, \(Self.residentFileBytes()) after releasing \(released)")
        #expect(try sum(0..<array.count) == expected, "the bytes read back after a release are the file's")
        // A range smaller than a page releases nothing (its page may hold other elements).
        #expect(array.releaseResidentPages(elements: 100..<200) == 0)
    }

    @Test func arraysOnTheHeapAreLeftAlone() {
        let array = NpyArray(float32: [Float](repeating: 1, count: 1 << 16), shape: [1 << 16])
        #expect(array.releaseResidentPages(elements: 0..<array.count) == 0)
        #expect(array.releaseResidentPages(elements: 0..<0) == 0)
    }
}
