/// The element types of the safetensors format that NpyIO reads (the names its headers use).
public enum SafetensorsDType: String, CaseIterable, Sendable {
    case bool = "BOOL", uint8 = "U8", int8 = "I8", int16 = "I16", uint16 = "U16", int32 = "I32", uint32 = "U32"
    case int64 = "I64", uint64 = "U64", float16 = "F16", bfloat16 = "BF16", float32 = "F32", float64 = "F64"

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .int16, .uint16, .float16, .bfloat16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    /// The numpy dtype holding the stored bytes as they are; nil for BF16, which numpy lacks (its
    /// arrays are converted to float32).
    var npyDType: NpyDType? {
        switch self {
        case .bool: return .bool
        case .uint8: return .uint8
        case .int8: return .int8
        case .int16: return .int16
        case .uint16: return .uint16
        case .int32: return .int32
        case .uint32: return .uint32
        case .int64: return .int64
        case .uint64: return .uint64
        case .float16: return .float16
        case .bfloat16: return nil
        case .float32: return .float32
        case .float64: return .float64
        }
    }

    /// numpy-style name: "float32", "bfloat16", "int64", …
    public var name: String { npyDType?.description ?? "bfloat16" }
}

/// A read-only `.safetensors` file, as `safetensors.torch.save_file` writes it: an 8-byte little-endian
/// header length N, N bytes of JSON header (`{"name": {"dtype": "F32", "shape": [..], "data_offsets":
/// [begin, end]}, ..., "__metadata__": {"key": "text"}}`, possibly padded with spaces), then the raw
/// little-endian tensor data, offsets counting from its first byte.
///
/// Opening maps the file and checks the whole header: its length against the file, strict JSON, every
/// entry's dtype, shape and offsets (element counts and byte sizes overflow-checked; the tensors must
/// tile the data exactly, without gap or overlap, as the reference implementation requires), no
/// duplicate names, metadata values that are strings. ``array(named:)`` then returns a zero-copy slice of
/// the map (F32, F16, F64 and the integer types: little-endian `NpyArray`s; an F32 tensor at an address
/// that is not 4-byte aligned is still a slice, which `NpyArray.isFloat32InPlace` reports as not
/// readable in place, so consumers copy it) or, for BF16, a float32 array converted once.
///
/// Thread-safe: immutable after opening.
public final class SafetensorsFile: @unchecked Sendable {
    /// One tensor's header entry.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: SafetensorsDType
        public let shape: [Int]
        /// Byte range in the data section (after the header).
        public let dataOffsets: Range<Int>
    }

    /// The largest header accepted: 100 MB, the reference implementation's limit.
    public static let maximumHeaderLength = 100_000_000

    /// How the file is named in errors and in its arrays' origins.
    public let file: String
    /// The tensors in header order.
    public let entries: [Entry]
    /// The header's `__metadata__` (empty when absent).
    public let metadata: [String: String]
    /// The file offset of the data section: 8 + header length.
    public let dataStart: Int
    private let storage: ByteStorage
    private let index: [String: Int]

    /// Opens and maps the file at `path` ("-" reads all of stdin).
    /// - Throws: `NpyError` naming the path when it cannot be read or its header is malformed (see the
    ///   type's description for every check).
    public convenience init(path: String) throws {
        let storage = try FileDescriptorIO.load(path: path)
        try self.init(storage: storage, file: path == "-" ? "<stdin>" : path)
    }

    /// Opens a file held in memory; `origin` names it in errors.
    public convenience init(bytes: [UInt8], origin: String) throws {
        try self.init(storage: bytes.withUnsafeBytes { ByteStorage.copying($0) }, file: origin)
    }

    init(storage: ByteStorage, file: String) throws {
        self.file = file
        self.storage = storage
        let context = ErrorContext(file: file)
        let total = storage.count
        guard total >= 8 else {
            throw context.error(total == 0 ? "empty file; expected a .safetensors file"
                                : "truncated: \(total) bytes, fewer than the 8-byte header length of a .safetensors file")
        }
        let declared = storage.withBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
        guard declared >= 2, declared <= UInt64(Self.maximumHeaderLength) else {
            throw context.error(at: 0, "header length \(declared) outside 2…\(Self.maximumHeaderLength)")
        }
        let headerLength = Int(declared)
        guard headerLength <= total - 8 else {
            throw context.error(at: 0, "header length \(headerLength) runs past the end of the file (\(total - 8) bytes follow the length)")
        }
        dataStart = 8 + headerLength
        let parsed: JSONText = try storage.withBytes { bytes in
            let header = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)])
            guard header.first == UInt8(ascii: "{") else {
                throw context.error(at: 8, "the header does not start with '{'")
            }
            do {
                return try JSONTextParser.parse(header)
            } catch let failure as JSONTextParser.Failure {
                throw context.error(at: 8 + failure.position, "malformed JSON header: \(failure.message)")
            }
        }
        guard case .object(let members) = parsed else {
            throw context.error(at: 8, "the header is \(parsed.kind), expected a JSON object")
        }
        let dataLength = total - dataStart
        var entries: [Entry] = []
        var metadata: [String: String]?
        var index: [String: Int] = [:]
        for (name, value) in members {
            if name == "__metadata__" {
                guard metadata == nil else { throw context.error("the header has two \"__metadata__\" entries") }
                metadata = try Self.metadata(value, context: context)
                continue
            }
            guard index[name] == nil else { throw context.error("the header names the tensor '\(name)' twice") }
            index[name] = entries.count
            entries.append(try Self.entry(name: name, value, dataLength: dataLength, context: context))
        }
        // The tensors must tile the data section: sorted by offset, each starts where the previous ended.
        var end = 0
        for entry in entries.sorted(by: { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }) {
            if entry.dataOffsets.lowerBound != end {
                throw context.error(
                    entry.dataOffsets.lowerBound < end
                        ? "tensor '\(entry.name)': data_offsets [\(entry.dataOffsets.lowerBound), \(entry.dataOffsets.upperBound)] overlap the previous tensor's data, which ends at \(end)"
                        : "tensor '\(entry.name)': data_offsets [\(entry.dataOffsets.lowerBound), \(entry.dataOffsets.upperBound)] leave a gap after byte \(end) of the data")
            }
            end = entry.dataOffsets.upperBound
        }
        if end != dataLength {
            throw context.error("the tensors' data ends at byte \(end) of the data section, but the file holds \(dataLength) data bytes after the header")
        }
        self.entries = entries
        self.index = index
        self.metadata = metadata ?? [:]
    }

    private static func metadata(_ value: JSONText, context: ErrorContext) throws -> [String: String] {
        guard case .object(let items) = value else {
            throw context.error("\"__metadata__\" is \(value.kind), expected an object of strings")
        }
        var result: [String: String] = [:]
        for (key, item) in items {
            guard case .string(let text) = item else {
                throw context.error("\"__metadata__\" entry \"\(key)\" is \(item.kind), expected a string")
            }
            guard result[key] == nil else { throw context.error("\"__metadata__\" has two entries \"\(key)\"") }
            result[key] = text
        }
        return result
    }

    private static func entry(name: String, _ value: JSONText, dataLength: Int, context: ErrorContext) throws -> Entry {
        func fail(_ message: String) -> NpyError { context.error("tensor '\(name)': \(message)") }
        guard case .object(let fields) = value else { throw fail("the entry is \(value.kind), expected an object") }
        var dtypeValue: JSONText?, shapeValue: JSONText?, offsetsValue: JSONText?
        for (key, field) in fields {
            switch key {
            case "dtype" where dtypeValue == nil: dtypeValue = field
            case "shape" where shapeValue == nil: shapeValue = field
            case "data_offsets" where offsetsValue == nil: offsetsValue = field
            case "dtype", "shape", "data_offsets": throw fail("the field \"\(key)\" appears twice")
            default: throw fail("unexpected field \"\(key)\"; expected \"dtype\", \"shape\" and \"data_offsets\"")
            }
        }
        guard let dtypeValue, let shapeValue, let offsetsValue else {
            let missing = [("dtype", dtypeValue), ("shape", shapeValue), ("data_offsets", offsetsValue)].filter { $0.1 == nil }.map(\.0)
            throw fail("missing field \"\(missing[0])\"")
        }
        guard case .string(let dtypeName) = dtypeValue, let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw fail("dtype \(dtypeValue.brief) is not supported; expected one of \(SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        func integers(_ value: JSONText, _ field: String) throws -> [Int] {
            guard case .array(let items) = value else { throw fail("\"\(field)\" is \(value.kind), expected an array of integers") }
            return try items.map { item in
                guard case .number(_, let integer?) = item, integer >= 0 else {
                    throw fail("\"\(field)\" holds \(item.brief), expected non-negative integers")
                }
                return integer
            }
        }
        let shape = try integers(shapeValue, "shape")
        if shape.count > 64 { throw fail("shape has \(shape.count) dimensions, more than 64") }
        let offsets = try integers(offsetsValue, "data_offsets")
        guard offsets.count == 2 else { throw fail("data_offsets has \(offsets.count) values, expected [begin, end]") }
        guard offsets[0] <= offsets[1], offsets[1] <= dataLength else {
            throw fail("data_offsets [\(offsets[0]), \(offsets[1])] outside the \(dataLength) data bytes (or end before begin)")
        }
        guard let count = NpyHeader.elementCount(shape) else {
            throw fail("shape \(NpyHeader.shapeRepr(shape)): the element count overflows a 64-bit integer")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
        guard !overflow, bytes == offsets[1] - offsets[0] else {
            throw fail("shape \(NpyHeader.shapeRepr(shape)) of \(dtype.rawValue) needs \(overflow ? "more than Int.max" : String(bytes)) bytes, data_offsets [\(offsets[0]), \(offsets[1])] hold \(offsets[1] - offsets[0])")
        }
        return Entry(name: name, dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])
    }

    /// The tensor names, in header order.
    public var tensorNames: [String] { entries.map(\.name) }

    /// The entry of tensor `name`, or nil.
    public func entry(named name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The tensor `name` as an array (origin `FILE:name`): a zero-copy little-endian slice of the map,
    /// or for BF16 a float32 array converted once (each bf16 value widened exactly).
    /// - Throws: `NpyError` naming the file when there is no such tensor.
    public func array(named name: String) throws -> NpyArray {
        guard let entry = entry(named: name) else {
            throw NpyError(file: file, message: "no tensor named '\(name)'; the file holds \(tensorNames.map { "'\($0)'" }.joined(separator: ", "))")
        }
        let region = ByteRegion(storage: storage, offset: dataStart + entry.dataOffsets.lowerBound, count: entry.dataOffsets.count)
        let source = ErrorContext(file: file, member: name)
        guard let dtype = entry.dtype.npyDType else {
            let count = entry.dataOffsets.count / 2
            let widened = ByteStorage.filling(count: count * 4) { buffer in
                region.withBytes { bytes in
                    let floats = buffer.bindMemory(to: UInt32.self)
                    for i in 0..<count {
                        floats[i] = UInt32(bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16
                    }
                }
            }
            return NpyArray(dtype: .float32, byteOrder: .little, shape: entry.shape, fortranOrder: false,
                            region: ByteRegion(storage: widened), source: source)
        }
        return NpyArray(dtype: dtype, byteOrder: dtype.hasNoByteOrder ? .notApplicable : .little, shape: entry.shape,
                        fortranOrder: false, region: region, source: source)
    }

    /// The CRC-32 of tensor `name`'s bytes as stored (on all cores; the file has no checksum of its own).
    /// - Throws: `NpyError` naming the file when there is no such tensor.
    public func checksum(ofTensor name: String) throws -> UInt32 {
        guard let entry = entry(named: name) else {
            throw NpyError(file: file, message: "no tensor named '\(name)'")
        }
        let region = ByteRegion(storage: storage, offset: dataStart + entry.dataOffsets.lowerBound, count: entry.dataOffsets.count)
        return region.withBytes { CRC32.parallelChecksum($0) }
    }

    /// True when `bytes` start like a safetensors file: an 8-byte length, then '{'.
    static func looksLikeSafetensors(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 9 && bytes[8] == UInt8(ascii: "{")
    }
}
