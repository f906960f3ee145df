import Foundation
@testable import FusionJobs
import Testing

/// The stored record layout: valid JSON that any reader decodes to the same record, read back by the
/// fast path exactly, with every string escaped.
@Suite struct OutputRecordTests {
    static let made = Provenance(
        weights: .init(fingerprint: "0123456789abcdef", prefix: "policy.\"fusion\".", file: "w \\ ünï.npz"),
        config: #"{"n_heads": 4}"#,
        inputs: [.init(role: "text", path: "/data/a \"quoted\"\n\u{1}.npy", bytes: 10, modifiedNanoseconds: 1_796_000_000_123_456_789)],
        mode: "per-step", window: 8, oneSample: true, outputDType: "float16", plan: "x-formed", attention: true)

    @Test(arguments: [nil, ["fused", "attention"]] as [[String]?])
    func theStoredTextDecodesAsJSONAndReadsBackFast(members: [String]?) throws {
        let record = OutputRecord(
            file: .init(role: "fused+attention", bytes: 4096, modifiedNanoseconds: 1_796_697_402_053_054_538,
                        crc32: "1e40d2fb", members: members),
            made: Self.made)
        let text = record.storedText
        #expect(try JSONDecoder().decode(OutputRecord.self, from: Data(text.utf8)) == record)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("record-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("o.npz").path
        try record.write(for: output)
        let stored = try #require(OutputRecord.readStored(for: output))
        #expect(stored.file == record.file)
        #expect(stored.madeText.elementsEqual(Self.made.jsonText.utf8))
        #expect(try OutputRecord.read(for: output) == record)
    }

    @Test func anotherLayoutIsLeftToTheGeneralReader() throws {
        let record = OutputRecord(file: .init(role: "fused", bytes: 1, modifiedNanoseconds: 2, crc32: "00000000", members: nil),
                                  made: Self.made)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("record-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("o.npy").path
        try encoder.encode(record).write(to: URL(fileURLWithPath: OutputRecord.path(for: output)))
        #expect(OutputRecord.readStored(for: output) == nil)
        #expect(try OutputRecord.read(for: output) == record)
    }

    @Test func stringsAreEscapedAsJSONRequires() {
        #expect(jsonString("a\"b\\c\nd\u{1}é") == #""a\"b\\c\nd\u0001é""#)
    }
}
