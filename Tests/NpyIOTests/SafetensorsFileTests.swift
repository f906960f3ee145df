import Foundation
import Testing
import TestSupport
@testable import NpyIO

/// A .safetensors image: the 8-byte little-endian length of `header` (padded with spaces to
/// `padTo` bytes when given), the header, then `data`.
func safetensorsBytes(_ header: String, data: [UInt8], padTo: Int? = nil) -> [UInt8] {
    var text = Array(header.utf8)
    if let padTo { text += [UInt8](repeating: 0x20, count: padTo - text.count) }
    let length = UInt64(text.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: length >> ($0 * 8)) } + text + data
}

/// The little-endian bytes of `values`.
func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> ($0 * 8)) } }
}

@Suite struct SafetensorsFileTests {
    func openError(_ bytes: [UInt8]) -> String? {
        #expect(throws: NpyError.self) { _ = try SafetensorsFile(bytes: bytes, origin: "w.safetensors") }?.description
    }

    @Test func readsEveryDTypeWithItsShapeAndMetadata() throws {
        let floats: [Float] = [1.5, -2, 0.25, 3e38, -0.0, 1e-40]
        // bf16 of 1.5, -2, 0.25: the top 16 bits of the float32 patterns.
        let bf16: [UInt8] = [0xC0, 0x3F, 0x00, 0xC0, 0x80, 0x3E]
        let f16: [UInt8] = [0x00, 0x3C, 0x00, 0xC0]  // 1, -2
        let i64: [UInt8] = [7, 0, 0, 0, 0, 0, 0, 0]
        let header = #"{"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, "b": {"dtype": "BF16", "shape": [3], "data_offsets": [24, 30]}, "c": {"dtype": "F16", "shape": [2], "data_offsets": [30, 34]}, "d": {"dtype": "I64", "shape": [], "data_offsets": [34, 42]}, "e": {"dtype": "F64", "shape": [0, 4], "data_offsets": [42, 42]}, "__metadata__": {"config": "{\"proj_dim\": 16}", "format": "pt"}}"#
        let file = try SafetensorsFile(bytes: safetensorsBytes(header, data: littleEndianBytes(floats) + bf16 + f16 + i64), origin: "w.safetensors")
        #expect(file.tensorNames == ["a", "b", "c", "d", "e"])
        #expect(file.metadata == ["config": #"{"proj_dim": 16}"#, "format": "pt"])
        let a = try file.array(named: "a")
        #expect(a.dtype == .float32 && a.shape == [2, 3] && a.origin == "w.safetensors:a")
        #expect(try a.float32Elements().map(\.bitPattern) == floats.map(\.bitPattern))
        let b = try file.array(named: "b")
        #expect(b.dtype == .float32 && file.entry(named: "b")?.dtype == .bfloat16 && file.entry(named: "b")?.dtype.name == "bfloat16")
        #expect(try b.float32Elements() == [1.5, -2, 0.25])
        #expect(try file.array(named: "c").float32Elements() == [1, -2])
        #expect(try file.array(named: "d").shape == [])
        #expect(try file.array(named: "d").float32Elements() == [7])
        #expect(try file.array(named: "e").count == 0)
        #expect(throws: NpyError.self) { try file.array(named: "z") }
    }

    @Test func float32IsReadInPlaceOnlyWhenAligned() throws {
        let values: [Float] = [1, 2, 3, 4]
        let header = #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#
        // 8 + 120 bytes before the data: aligned. 8 + 117: misaligned by 1.
        let aligned = try SafetensorsFile(bytes: safetensorsBytes(header, data: littleEndianBytes(values), padTo: 120), origin: "a")
        let misaligned = try SafetensorsFile(bytes: safetensorsBytes(header, data: littleEndianBytes(values), padTo: 117), origin: "m")
        #expect(aligned.dataStart == 128 && misaligned.dataStart == 125)
        #expect(try aligned.array(named: "w").isFloat32InPlace)
        #expect(try !misaligned.array(named: "w").isFloat32InPlace)
        #expect(try misaligned.array(named: "w").float32Elements() == values)
    }

    @Test func malformedHeadersAreCleanErrors() {
        let entry = #"{"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}"#
        let data = [UInt8](repeating: 0, count: 8)
        let cases: [([UInt8], String)] = [
            ([], "w.safetensors: empty file; expected a .safetensors file"),
            ([1, 2, 3], "w.safetensors: truncated: 3 bytes, fewer than the 8-byte header length of a .safetensors file"),
            (safetensorsBytes("{}", data: []).enumerated().map { $0.offset == 0 ? 1 : $0.element },
             "w.safetensors at byte 0: header length 1 outside 2…100000000"),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x7B, 0x7D],
             "w.safetensors at byte 0: header length 9223372036854775807 outside 2…100000000"),
            ([100, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D],
             "w.safetensors at byte 0: header length 100 runs past the end of the file (2 bytes follow the length)"),
            (safetensorsBytes(#"[1, 2]"#, data: []), "w.safetensors at byte 8: the header does not start with '{'"),
            (safetensorsBytes(#"{"w": "#, data: []), "w.safetensors at byte 14: malformed JSON header: expected a value, found the end of the text"),
            (safetensorsBytes(#"{"w": \#(entry),}"#, data: data), "w.safetensors at byte 69: malformed JSON header: expected a member name in double quotes, found '}'"),
            (safetensorsBytes(#"{"w": \#(entry), "w": \#(entry)}"#, data: data), "w.safetensors: the header names the tensor 'w' twice"),
            (safetensorsBytes(#"{"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}"#, data: [0, 0]),
             "w.safetensors: tensor 'w': dtype \"F8_E4M3\" is not supported; expected one of BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, F32, F64"),
            (safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#, data: data),
             "w.safetensors: tensor 'w': \"shape\" holds -2, expected non-negative integers"),
            (safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}}"#, data: data),
             "w.safetensors: tensor 'w': \"shape\" holds 2.0, expected non-negative integers"),
            (safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "extra": 1}}"#, data: data),
             "w.safetensors: tensor 'w': unexpected field \"extra\"; expected \"dtype\", \"shape\" and \"data_offsets\""),
            (safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [2]}}"#, data: data),
             "w.safetensors: tensor 'w': missing field \"data_offsets\""),
            (safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, data: data),
             "w.safetensors: tensor 'w': shape (3,) of F32 needs 12 bytes, data_offsets [0, 8] hold 8"),
            (safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}}"#, data: data),
             "w.safetensors: tensor 'w': data_offsets [0, 16] outside the 8 data bytes (or end before begin)"),
            (safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}"#, data: data),
             "w.safetensors: tensor 'w': data_offsets [8, 0] outside the 8 data bytes (or end before begin)"),
            (safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}"#, data: data),
             "w.safetensors: tensor 'w': shape (4294967296, 4294967296): the element count overflows a 64-bit integer"),
            (safetensorsBytes(#"{"w": {"dtype": "F64", "shape": [2305843009213693952], "data_offsets": [0, 8]}}"#, data: data),
             "w.safetensors: tensor 'w': shape (2305843009213693952,) of F64 needs more than Int.max bytes, data_offsets [0, 8] hold 8"),
            (safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "v": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}"#, data: data),
             "w.safetensors: tensor 'v': data_offsets [2, 6] overlap the previous tensor's data, which ends at 4"),
            (safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, data: data),
             "w.safetensors: tensor 'w': data_offsets [4, 8] leave a gap after byte 0 of the data"),
            (safetensorsBytes(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, data: data),
             "w.safetensors: the tensors' data ends at byte 4 of the data section, but the file holds 8 data bytes after the header"),
            (safetensorsBytes(#"{"__metadata__": {"config": 3}}"#, data: []),
             "w.safetensors: \"__metadata__\" entry \"config\" is a number, expected a string"),
            (safetensorsBytes(#"{"__metadata__": []}"#, data: []),
             "w.safetensors: \"__metadata__\" is an array, expected an object of strings"),
            (safetensorsBytes(String(repeating: #"{"a": "#, count: 70) + "1" + String(repeating: "}", count: 70), data: []),
             "w.safetensors at byte 392: malformed JSON header: values nested deeper than 64 levels"),
        ]
        for (bytes, message) in cases {
            #expect(openError(bytes) == message)
        }
    }

    @Test func headerPaddingAndEscapesAreRead() throws {
        let header = #"{"caf\u00e9 \ud83d\ude00": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}"#
        let file = try SafetensorsFile(bytes: safetensorsBytes(header, data: [9], padTo: 200), origin: "x")
        #expect(file.tensorNames == ["café 😀"])
        #expect(try file.array(named: "café 😀").float32Elements() == [9])
    }

    @Test func openArrayFileRecognisesSafetensorsAndPickles() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let header = #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#
        try Data(safetensorsBytes(header, data: littleEndianBytes([2]))).write(to: folder.url.appendingPathComponent("w.bin"))
        guard case .safetensors(let file) = try openArrayFile(path: folder.path("w.bin")) else {
            Issue.record("w.bin is not recognised as .safetensors")
            return
        }
        #expect(file.tensorNames == ["w"])
        try Data([0x80, 0x02, 0x8A, 0x0A]).write(to: folder.url.appendingPathComponent("old.pt"))
        let error = #expect(throws: NpyError.self) { try openArrayFile(path: folder.path("old.pt")) }
        #expect(error?.description == "\(folder.path("old.pt")) at byte 0: a pickled PyTorch checkpoint (torch.save's legacy format), not a NumPy or safetensors file; convert it with scripts/convert_checkpoint.py")
    }

    /// The committed fixtures were written by the `safetensors` package; every tensor equals the
    /// matching .npz member bit for bit.
    @Test(arguments: [("f32", "weights"), ("f16", "f16"), ("bf16", "bf16"), ("f64", "f64")])
    func fixturesMatchTheirNpzTwins(_ name: String, _ twin: String) throws {
        let file = try SafetensorsFile(path: fixturesURL("safetensors/\(name).safetensors").path)
        let archive = try NpzArchive(path: fixturesURL("safetensors/\(twin).npz").path)
        #expect(file.metadata["config"] == (try archive.array(named: "config").stringScalar()))
        #expect(Set(file.tensorNames) == Set(archive.memberNames.filter { $0 != "config" }))
        #expect(file.dataStart % 8 == 0)
        for entry in file.entries {
            let ours = try file.array(named: entry.name)
            let numpy = try archive.array(named: entry.name)
            #expect(ours.shape == numpy.shape, "\(entry.name)")
            #expect(try ours.float32Elements().map(\.bitPattern) == numpy.float32Elements().map(\.bitPattern), "\(entry.name)")
            if name == "f32" { #expect(ours.isFloat32InPlace, "\(entry.name)") }
        }
    }
}
