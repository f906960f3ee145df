import Fusion
import NpyIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open model: its engine (nil once closed), serialised by `lock`.
final class ModelState {
    let lock = Lock()
    var engine: FusionEngine?
    /// The sessions opened on it, ended when it closes.
    var sessions: [SessionsState] = []
    /// Whether the first fuse call has packed every weight matrix (a long-lived model keeps a packed
    /// copy, as ONNX Runtime and OpenVINO do at session creation; the CLI's one-shot run does not).
    var packed = false

    init(engine: FusionEngine) {
        self.engine = engine
    }
}

/// Open sessions: their batch (nil once their model closed) and their model's state (whose lock
/// serialises them).
final class SessionsState {
    let model: ModelState
    var batch: FusionSessionBatch?

    init(model: ModelState, batch: FusionSessionBatch) {
        self.model = model
        self.batch = batch
    }
}

/// Every live handle by its number: C sees only the number (as an opaque pointer), so a closed,
/// stale or made-up handle is looked up and refused instead of being dereferenced.
enum Handles {
    private static let lock = Lock()
    nonisolated(unsafe) private static var next: UInt = 0x1000
    nonisolated(unsafe) private static var objects: [UInt: AnyObject] = [:]

    /// A new handle for `object`.
    static func add(_ object: AnyObject) -> OpaquePointer {
        lock.withLock {
            next += 16
            objects[next] = object
            return OpaquePointer(bitPattern: next)!
        }
    }

    /// The live object of `handle`, of type `T`.
    static func lookup<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type, _ name: String) throws -> T {
        guard let handle else { throw CFailure.handle("\(name): NULL handle") }
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))
        guard let object = lock.withLock({ objects[key] }) as? T else {
            throw CFailure.handle("\(name): not an open \(name) (closed already, or never opened)")
        }
        return object
    }

    /// Removes `handle`, returning its object.
    static func remove<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type, _ name: String) throws -> T {
        let object = try lookup(handle, as: type, name)
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle!)))
        lock.withLock { _ = objects.removeValue(forKey: key) }
        return object
    }
}
