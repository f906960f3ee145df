import Testing
@testable import NpyIO

@Suite struct ZlibTests {
    func roundTrip(_ data: [UInt8], declared: Int? = nil, cut: Int = 0, corruptAt: Int? = nil) throws -> (UInt32, [UInt8]) {
        var packed = data.withUnsafeBytes { Zlib.deflate([$0]) }
        packed.removeLast(cut)
        if let corruptAt { packed[corruptAt] ^= 0xFF }
        var output = [UInt8](repeating: 0, count: declared ?? data.count)
        let crc = try packed.withUnsafeBytes { input in
            try output.withUnsafeMutableBytes { try Zlib.inflate(input, into: $0) }
        }
        return (crc, output)
    }

    @Test func inflateReturnsTheDataAndItsCRC() throws {
        let data = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 * 31 / 7) }
        let (crc, output) = try roundTrip(data)
        #expect(output == data)
        #expect(crc == data.withUnsafeBytes { CRC32.checksum($0) })
        #expect(try roundTrip([]).1 == [])
    }

    @Test func inflateProblems() throws {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        #expect(throws: Zlib.InflateProblem.exceedsDeclaredSize) { try roundTrip(data, declared: 99_999) }
        #expect(throws: Zlib.InflateProblem.shorterThanDeclared(produced: 100_000)) { try roundTrip(data, declared: 100_001) }
        #expect(throws: Zlib.InflateProblem.self) { try roundTrip(data, cut: 10) }
        do {
            _ = try roundTrip(data, cut: 10)
        } catch let problem as Zlib.InflateProblem {
            guard case .truncated = problem else { Issue.record("expected .truncated, got \(problem)"); return }
        }
        do {
            _ = try roundTrip(Array("hello hello hello".utf8), corruptAt: 0)
            Issue.record("corrupt stream inflated")
        } catch let problem as Zlib.InflateProblem {
            guard case .corrupt = problem else { Issue.record("expected .corrupt, got \(problem)"); return }
        }
    }
}
