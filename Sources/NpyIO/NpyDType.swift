/// The element types NpyIO reads and writes; the only place that knows numpy's descr strings.
///
/// Object (`O`), void/structured, datetime and long-double dtypes are not representable and are
/// refused when a header names them.
public enum NpyDType: Hashable, Sendable, CustomStringConvertible {
    case bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64
    case float16, float32, float64, complex64, complex128
    /// numpy `U<n>`: `length` UCS-4 code units (4 bytes each) per element.
    case unicode(length: Int)
    /// numpy `S<n>`: `length` bytes per element.
    case bytes(length: Int)

    /// Bytes per element (`U<n>`: 4·n, `S<n>`: n).
    public var itemSize: Int {
        switch self {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16, .float16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64, .complex64: return 8
        case .complex128: return 16
        case .unicode(let length): return length * 4
        case .bytes(let length): return length
        }
    }

    /// True for bool, the integers, the floats and complex.
    public var isNumeric: Bool {
        switch self {
        case .unicode, .bytes: return false
        default: return true
        }
    }

    /// True for the signed and unsigned integers (bool excluded).
    public var isInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: return true
        default: return false
        }
    }

    /// True for float16, float32 and float64 (complex excluded).
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .float32, .float64: return true
        default: return false
        }
    }

    /// True for complex64 and complex128.
    public var isComplex: Bool { self == .complex64 || self == .complex128 }

    /// numpy's `dtype.name`: "bool", "int8", …, "complex128", "str160" for `U5` (bits), "bytes24" for `S3`.
    public var description: String {
        switch self {
        case .bool: return "bool"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .uint16: return "uint16"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .float16: return "float16"
        case .float32: return "float32"
        case .float64: return "float64"
        case .complex64: return "complex64"
        case .complex128: return "complex128"
        case .unicode(let length): return length == 0 ? "str" : "str\(length * 32)"
        case .bytes(let length): return length == 0 ? "bytes" : "bytes\(length * 8)"
        }
    }

    /// True when elements are single bytes or byte strings, so numpy writes `|` as the byte order.
    var hasNoByteOrder: Bool {
        switch self {
        case .bool, .int8, .uint8, .bytes: return true
        default: return false
        }
    }

    /// The byte order an array of this dtype gets when the caller does not care: `notApplicable`
    /// for single-byte types, otherwise `little`.
    var nativeByteOrder: NpyByteOrder { hasNoByteOrder ? .notApplicable : .little }

    /// What numpy prints for the dtype, `str(array.dtype)`: `float32`, `int64`, `bool` for numbers,
    /// and the typestr for strings and bytes, `<U218`, `|S3` (where ``description``'s bit-count
    /// names, `str6976`, are numpy's `dtype.name`, which numpy users rarely meet).
    public var numpyName: String {
        switch self {
        case .unicode, .bytes: return descr(byteOrder: nativeByteOrder)
        default: return description
        }
    }

    /// numpy's `dtype.str` for this dtype in `byteOrder`, e.g. `<f4`, `>i8`, `|b1`, `<U5`, `|S3`.
    func descr(byteOrder: NpyByteOrder) -> String {
        let prefix: String
        if hasNoByteOrder {
            prefix = "|"
        } else {
            prefix = byteOrder == .big ? ">" : "<"
        }
        switch self {
        case .bool: return prefix + "b1"
        case .int8, .int16, .int32, .int64: return prefix + "i\(itemSize)"
        case .uint8, .uint16, .uint32, .uint64: return prefix + "u\(itemSize)"
        case .float16, .float32, .float64: return prefix + "f\(itemSize)"
        case .complex64, .complex128: return prefix + "c\(itemSize)"
        case .unicode(let length): return prefix + "U\(length)"
        case .bytes(let length): return prefix + "S\(length)"
        }
    }

    /// Why a descr string was refused; `message` is the text for the person at the terminal.
    enum DescrProblem: Error, Equatable {
        case object, unsupported(String), unknown

        func message(for descr: String) -> String {
            switch self {
            case .object:
                return "descr '\(descr)' is the object dtype; refused because reading it would mean unpickling"
            case .unsupported(let what):
                return "descr '\(descr)' is \(what), which NpyIO does not support; expected bool, int, uint, float, complex, U or S"
            case .unknown:
                return "descr '\(descr)' is not a dtype NpyIO knows; expected e.g. '<f4', '>i8', '|b1', '<U5', '|S3'"
            }
        }
    }

    /// Parses a numpy typestr such as `<f4`: an optional byte-order character (`<`, `>`, `|`, `=`;
    /// none means native), a kind character and a size. `=` and `|` on multi-byte types mean native
    /// (little); single-byte types always get `notApplicable`, as numpy normalises them.
    static func parse(descr: String) -> Result<(NpyDType, NpyByteOrder), DescrProblem> {
        var scalars = Substring(descr)
        var order: NpyByteOrder = .little
        if let first = scalars.first, "<>|=".contains(first) {
            order = first == ">" ? .big : .little
            scalars = scalars.dropFirst()
        }
        guard let kind = scalars.first else { return .failure(.unknown) }
        let sizeText = scalars.dropFirst()
        if kind == "O" { return .failure(.object) }
        if kind == "V" { return .failure(.unsupported("a void (raw or structured) dtype")) }
        if kind == "M" || kind == "m" { return .failure(.unsupported("a datetime dtype")) }
        if kind == "?" && sizeText.isEmpty { return .success((.bool, .notApplicable)) }
        guard !sizeText.isEmpty, sizeText.allSatisfy({ $0.isASCII && $0.isNumber }),
              sizeText.count <= 9, let size = Int(sizeText)
        else { return .failure(.unknown) }
        let dtype: NpyDType
        switch (kind, size) {
        case ("b", 1): dtype = .bool
        case ("i", 1): dtype = .int8
        case ("i", 2): dtype = .int16
        case ("i", 4): dtype = .int32
        case ("i", 8): dtype = .int64
        case ("u", 1): dtype = .uint8
        case ("u", 2): dtype = .uint16
        case ("u", 4): dtype = .uint32
        case ("u", 8): dtype = .uint64
        case ("f", 2): dtype = .float16
        case ("f", 4): dtype = .float32
        case ("f", 8): dtype = .float64
        case ("c", 8): dtype = .complex64
        case ("c", 16): dtype = .complex128
        case ("f", 12), ("f", 16), ("c", 24), ("c", 32):
            return .failure(.unsupported("long double"))
        case ("U", _): dtype = .unicode(length: size)
        case ("S", _): dtype = .bytes(length: size)
        default: return .failure(.unknown)
        }
        return .success((dtype, dtype.hasNoByteOrder ? .notApplicable : order))
    }
}
