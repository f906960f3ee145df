#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The status codes of include/fusectl.h.
enum CStatus: Int32 {
    case ok = 0
    case input = 1
    case model = 2
    case handle = 3
    case buffer = 4
}

/// A failure to report through a status code and the thread's last error.
struct CFailure: Error {
    var status: CStatus
    var message: String

    static func input(_ message: String) -> CFailure { CFailure(status: .input, message: message) }
    static func buffer(_ message: String) -> CFailure { CFailure(status: .buffer, message: message) }
    static func handle(_ message: String) -> CFailure { CFailure(status: .handle, message: message) }
}

/// The last error of each thread: a malloc'ed C string under a pthread key, freed when the thread
/// ends or the next error replaces it.
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in free(pointer) }
        return key
    }()

    static func set(_ message: String) {
        let copy = strdup(message)
        let old = pthread_getspecific(key)
        pthread_setspecific(key, copy)
        free(old)
    }

    static var pointer: UnsafePointer<CChar> {
        if let value = pthread_getspecific(key) {
            return UnsafePointer(value.assumingMemoryBound(to: CChar.self))
        }
        return emptyString
    }

    private static let emptyString: UnsafePointer<CChar> = {
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        pointer.pointee = 0
        return UnsafePointer(pointer)
    }()
}

/// Runs `body`, turning every thrown error into its status code and the thread's last error:
/// ``CFailure`` as it says, library errors (`FusionError`, `NpyError`, …) as `defaultStatus` with
/// their description, the message the CLI prints.
func guarded(_ defaultStatus: CStatus = .input, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return CStatus.ok.rawValue
    } catch let failure as CFailure {
        LastError.set(failure.message)
        return failure.status.rawValue
    } catch {
        LastError.set(String(describing: error))
        return defaultStatus.rawValue
    }
}

/// A required C string as Swift text.
func requiredString(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
    guard let pointer else { throw CFailure.input("\(name): NULL where a string is required") }
    guard let text = String(validatingCString: pointer) else { throw CFailure.input("\(name): not valid UTF-8") }
    return text
}

/// An optional C string (NULL stays nil).
func optionalString(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String? {
    try pointer.map { try requiredString($0, name) }
}

/// The most extents a shape may have, and the most threads a model may ask for.
let maxRank: Int64 = 8
let maxThreads: Int64 = 4096

/// A shape read from `rank` extents at `pointer`: each ≥ 0, their product within `Int` (so every
/// element count the engine computes from it is exact).
func readShape(_ pointer: UnsafePointer<Int64>?, rank: Int64, _ name: String) throws -> [Int] {
    guard (0...maxRank).contains(rank) else { throw CFailure.input("\(name): rank \(rank) outside 0…\(maxRank)") }
    guard rank == 0 || pointer != nil else { throw CFailure.input("\(name): NULL shape of rank \(rank)") }
    if let pointer, Int(bitPattern: pointer) % MemoryLayout<Int64>.alignment != 0 {
        throw CFailure.input("\(name): the shape is not aligned to 8 bytes (address \(pointer))")
    }
    var shape: [Int] = []
    var count = 1
    for axis in 0..<Int(rank) {
        let extent = pointer![axis]
        guard extent >= 0 else { throw CFailure.input("\(name): negative extent \(extent) on axis \(axis)") }
        let (product, overflow) = count.multipliedReportingOverflow(by: Int(extent))
        guard !overflow, product <= Int.max / 8 else {
            throw CFailure.input("\(name): shape \(shapeDescription(shape + [Int(extent)])) holds too many elements")
        }
        count = product
        shape.append(Int(extent))
    }
    return shape
}

/// `(2, 3)`, `(5,)`.
func shapeDescription(_ shape: [Int]) -> String {
    shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
}

/// The product of `factors`, or a ``CFailure`` naming `what` when it overflows.
func checkedProduct(_ factors: [Int], _ what: String) throws -> Int {
    var product = 1
    for factor in factors {
        let (next, overflow) = product.multipliedReportingOverflow(by: factor)
        guard !overflow, next <= Int.max / 8 else { throw CFailure.input("\(what): too many elements") }
        product = next
    }
    return product
}

/// `count` int64 values at `pointer` as `[Int]`, or nil for NULL (then count must be 0).
func readIntegers(_ pointer: UnsafePointer<Int64>?, count: Int64, _ name: String) throws -> [Int]? {
    guard let pointer else {
        guard count == 0 else { throw CFailure.input("\(name): NULL with a count of \(count)") }
        return nil
    }
    guard (0...(Int64(Int.max) / 8)).contains(count) else { throw CFailure.input("\(name): count \(count) out of range") }
    guard Int(bitPattern: pointer) % MemoryLayout<Int64>.alignment == 0 else {
        throw CFailure.input("\(name): the data is not aligned to 8 bytes (address \(pointer))")
    }
    return (0..<Int(count)).map { Int(pointer[$0]) }
}
