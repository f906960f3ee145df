import Fusion

/// The live batch of `sessions`, inside its model's lock.
private func withBatch(_ sessions: OpaquePointer?, _ body: (FusionSessionBatch) throws -> Void) throws {
    let state = try Handles.lookup(sessions, as: SessionsState.self, "sessions")
    try state.model.lock.withLock {
        guard let batch = state.batch else { throw CFailure.handle("sessions: its model was closed") }
        try body(batch)
    }
}

@_cdecl("fusectl_sessions_open")
public func fusectl_sessions_open(
    _ model: OpaquePointer?, _ agents: Int64, _ window: Int64, _ sessions: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guarded {
        guard let sessions else { throw CFailure.input("sessions: NULL where the handle is to be stored") }
        guard (1...(1 << 20)).contains(agents) else { throw CFailure.input("agents: \(agents) outside 1…\(1 << 20)") }
        guard window >= 0 else { throw CFailure.input("window: must be at least 1 frame (or 0 for none), found \(window)") }
        try withEngine(model) { engine, state in
            let batch = try FusionSessionBatch(engine: engine, agents: Int(agents), maxFrames: window == 0 ? nil : Int(window))
            let opened = SessionsState(model: state, batch: batch)
            state.sessions.append(opened)
            sessions.pointee = Handles.add(opened)
        }
    }
}

@_cdecl("fusectl_sessions_reset")
public func fusectl_sessions_reset(
    _ sessions: OpaquePointer?, _ agent: Int64,
    _ text: UnsafePointer<Float>?, _ textShape: UnsafePointer<Int64>?, _ textRank: Int64,
    _ textMask: UnsafePointer<Float>?, _ textMaskShape: UnsafePointer<Int64>?, _ textMaskRank: Int64
) -> Int32 {
    guarded {
        let textArray = try text.map { try BorrowedFloats($0, shape: readShape(textShape, rank: textRank, "text"), name: "text") }
        let maskArray = try textMask.map {
            try BorrowedFloats($0, shape: readShape(textMaskShape, rank: textMaskRank, "text_mask"), name: "text_mask")
        }
        try withBatch(sessions) { batch in
            guard (0..<Int64(batch.count)).contains(agent) else {
                throw CFailure.input("agent: \(agent) outside 0…\(batch.count - 1)")
            }
            if let textArray, textArray.shape.reduce(1, *) == 0 {
                throw CFailure.input("text: no elements, shape \(shapeDescription(textArray.shape))")
            }
            try batch.reset(agent: Int(agent), text: textArray, textMask: maskArray)
        }
    }
}

@_cdecl("fusectl_sessions_step")
public func fusectl_sessions_step(
    _ sessions: OpaquePointer?, _ frames: UnsafePointer<Float>?, _ framesShape: UnsafePointer<Int64>?, _ framesRank: Int64,
    _ output: UnsafeMutablePointer<Float>?, _ outputCount: Int64
) -> Int32 {
    guarded {
        let framesArray = try BorrowedFloats(frames, shape: readShape(framesShape, rank: framesRank, "frames"), name: "frames")
        guard let output else { throw CFailure.input("output: NULL") }
        try withBatch(sessions) { batch in
            let d = batch.model.config.projDim
            guard outputCount == Int64(batch.count * d) else {
                throw CFailure.buffer("output: room for \(outputCount) floats, a step gives \(batch.count) × \(d) = \(batch.count * d)")
            }
            let vectors = try batch.step(frames: framesArray)
            vectors.withUnsafeBufferPointer { output.update(from: $0.baseAddress!, count: $0.count) }
        }
    }
}

@_cdecl("fusectl_sessions_steps")
public func fusectl_sessions_steps(_ sessions: OpaquePointer?, _ agent: Int64, _ steps: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        guard let steps else { throw CFailure.input("steps: NULL") }
        try withBatch(sessions) { batch in
            guard (0..<Int64(batch.count)).contains(agent) else {
                throw CFailure.input("agent: \(agent) outside 0…\(batch.count - 1)")
            }
            steps.pointee = Int64(batch.steps(agent: Int(agent)))
        }
    }
}

@_cdecl("fusectl_sessions_close")
public func fusectl_sessions_close(_ sessions: OpaquePointer?) -> Int32 {
    guarded {
        let state = try Handles.remove(sessions, as: SessionsState.self, "sessions")
        state.model.lock.withLock {
            state.batch = nil
            state.model.sessions.removeAll { $0 === state }
        }
    }
}
