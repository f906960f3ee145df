#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Fusion

/// The version string; must follow `fusectl --version`.
private let versionText: UnsafePointer<CChar> = {
    let text = "fusectl \(FusionVersion.current)"
    return UnsafePointer(strdup(text)!)
}()

@_cdecl("fusectl_last_error")
public func fusectl_last_error() -> UnsafePointer<CChar> {
    LastError.pointer
}

@_cdecl("fusectl_version")
public func fusectl_version() -> UnsafePointer<CChar> {
    versionText
}

@_cdecl("fusectl_model_open")
public func fusectl_model_open(
    _ path: UnsafePointer<CChar>?, _ prefix: UnsafePointer<CChar>?, _ configJSON: UnsafePointer<CChar>?,
    _ configOrigin: UnsafePointer<CChar>?, _ threads: Int64, _ model: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guarded(.model) {
        guard let model else { throw CFailure.input("model: NULL where the handle is to be stored") }
        let path = try requiredString(path, "path")
        guard path != "-" else { throw CFailure.input("path: '-' (standard input) cannot be read in-process; name a file") }
        let prefix = try optionalString(prefix, "prefix")
        let configPath = try optionalString(configOrigin, "config_path")
        var configJSON = try optionalString(configJSON, "config_json")
        if configJSON == nil, let configPath {
            configJSON = try readConfigFile(configPath)
        }
        let origin = configPath ?? "configuration JSON"
        guard threads <= maxThreads else { throw CFailure.input("threads: \(threads) above \(maxThreads)") }
        let loaded = try FusionModel.load(path: path, prefix: prefix, configJSON: configJSON, configOrigin: origin)
        let engine = FusionEngine(model: loaded.model, threads: Int(max(0, threads)))
        model.pointee = Handles.add(ModelState(engine: engine))
    }
}

@_cdecl("fusectl_model_close")
public func fusectl_model_close(_ model: OpaquePointer?) -> Int32 {
    guarded {
        let state = try Handles.remove(model, as: ModelState.self, "model")
        state.lock.withLock {
            state.engine = nil
            for sessions in state.sessions { sessions.batch = nil }
            state.sessions = []
        }
    }
}

/// The open engine of `model`, inside its lock.
func withEngine(_ model: OpaquePointer?, _ body: (FusionEngine, ModelState) throws -> Void) throws {
    let state = try Handles.lookup(model, as: ModelState.self, "model")
    try state.lock.withLock {
        guard let engine = state.engine else { throw CFailure.handle("model: closed") }
        try body(engine, state)
    }
}

@_cdecl("fusectl_model_config")
public func fusectl_model_config(
    _ model: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int64, _ length: UnsafeMutablePointer<Int64>?
) -> Int32 {
    guarded {
        guard let length else { throw CFailure.input("length: NULL") }
        try withEngine(model) { engine, _ in
            let text = Array(engine.model.config.jsonString().utf8)
            length.pointee = Int64(text.count)
            guard capacity > 0 else { return }
            guard let buffer, capacity > Int64(text.count) else {
                throw CFailure.buffer("buffer: \(capacity) bytes for a configuration of \(text.count) bytes and its NUL")
            }
            for (i, byte) in text.enumerated() { buffer[i] = CChar(bitPattern: byte) }
            buffer[text.count] = 0
        }
    }
}

@_cdecl("fusectl_model_threads")
public func fusectl_model_threads(_ model: OpaquePointer?, _ threads: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        guard let threads else { throw CFailure.input("threads: NULL") }
        try withEngine(model) { engine, _ in threads.pointee = Int64(engine.threads) }
    }
}

/// The text of a configuration file (`--config PATH`), read with the C library (no Foundation).
/// - Throws: ``CFailure`` (model) naming the path: unreadable (with the system's reason), not UTF-8,
///   or larger than 16 MiB (no configuration is).
func readConfigFile(_ path: String) throws -> String {
    guard path != "-" else { throw CFailure(status: .input, message: "config_path: '-' (standard input) cannot be read in-process; name a file") }
    guard let file = fopen(path, "rb") else {
        throw CFailure(status: .model, message: "\(path): cannot be read (\(String(cString: strerror(errno))))")
    }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        bytes += chunk.prefix(count)
        if bytes.count > 16 << 20 {
            throw CFailure(status: .model, message: "\(path): more than 16 MiB, not a configuration file")
        }
        if count < chunk.count {
            if ferror(file) != 0 {
                throw CFailure(status: .model, message: "\(path): cannot be read (\(String(cString: strerror(errno))))")
            }
            break
        }
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw CFailure(status: .model, message: "\(path): is not valid UTF-8")
    }
    return text
}
