// main.swift of the NpyIO benchmark binary: the NpyIO side of scripts/bench npyio, compiled with the NpyIO sources into one -O binary.
// Each command prints one JSON object with seconds (wall) and, where useful, CPU seconds.
#if canImport(Glibc)
import Glibc
#endif
import CZlib

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
}

/// Touches every 4-byte word (wrapping integer sum, vectorisable) so that mapped data is really read.
func checksum(_ floats: UnsafeBufferPointer<Float>) -> UInt32 {
    floats.withMemoryRebound(to: UInt32.self) { words in
        var total: UInt32 = 0
        for word in words { total &+= word }
        return total
    }
}

func emit(_ fields: [(String, Any)]) {
    print("{" + fields.map { "\"\($0.0)\": \($0.1 is String ? "\"\($0.1)\"" : "\($0.1)")" }.joined(separator: ", ") + "}")
}

let arguments = CommandLine.arguments
let command = arguments[1]
do {
    switch command {
    case "open":
        // CPU and wall time to open (map + parse) the file, averaged over repetitions
        let path = arguments[2]
        let repetitions = 200
        let cpu0 = cpuSeconds(), wall0 = now()
        var total = 0
        for _ in 0..<repetitions { total &+= try NpyFile.read(path: path).count }
        emit([("command", command), ("cpu_seconds", (cpuSeconds() - cpu0) / Double(repetitions)),
              ("seconds", (now() - wall0) / Double(repetitions)), ("count", total / repetitions)])
    case "read":
        // open + every element as float32: in place when possible, else converted in one buffer
        let path = arguments[2]
        let t0 = now()
        let array = try NpyFile.read(path: path)
        let sum = try array.withFloat32Elements(in: 0..<array.count) { checksum($0) }
        emit([("command", command), ("seconds", now() - t0), ("bytes", array.byteCount), ("in_place", array.isFloat32InPlace), ("checksum", sum)])
    case "read-chunked":
        // open + elements as float32 in chunks of 4 Mi elements (how the fusion engine streams)
        let path = arguments[2]
        let t0 = now()
        let array = try NpyFile.read(path: path)
        var sum: UInt32 = 0
        var start = 0
        while start < array.count {
            let end = min(array.count, start + (1 << 22))
            sum &+= try array.withFloat32Elements(in: start..<end) { checksum($0) }
            start = end
        }
        emit([("command", command), ("seconds", now() - t0), ("bytes", array.byteCount), ("checksum", sum)])
    case "read-npz":
        let path = arguments[2], name = arguments[3]
        let t0 = now()
        let archive = try NpzArchive(path: path)
        let array = try archive.array(named: name)
        let t1 = now()
        let sum = try array.withFloat32Elements(in: 0..<array.count) { checksum($0) }
        emit([("command", command), ("seconds", now() - t0), ("seconds_member", t1 - t0), ("bytes", array.byteCount), ("checksum", sum)])
    case "inflate-only":
        // zlib's own raw inflate speed on the same member, no CRC, no parsing (the reference)
        let path = arguments[2], name = arguments[3]
        let storage = try FileDescriptorIO.load(path: path)
        let entries = try storage.withBytes { try ZipDirectory.parse($0, context: ErrorContext(file: path)) }
        let entry = entries.first { $0.name == name + ".npy" }!
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: entry.uncompressedSize, alignment: 64)
        defer { output.deallocate() }
        // one zlib inflate() call over the whole output, like `zlib.decompress` / minigzip
        let t0 = now()
        var stream = z_stream()
        _ = inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        let status: Int32 = storage.withBytes { bytes in
            stream.next_in = UnsafeMutablePointer(mutating: (bytes.baseAddress! + entry.dataOffset).assumingMemoryBound(to: Bytef.self))
            stream.avail_in = UInt32(entry.compressedSize)
            stream.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(entry.uncompressedSize)
            return CZlib.inflate(&stream, Z_FINISH)
        }
        inflateEnd(&stream)
        let t1 = now()
        let crc = CRC32.checksum(UnsafeRawBufferPointer(output))
        emit([("command", command), ("seconds", t1 - t0), ("crc_seconds", now() - t1), ("bytes", entry.uncompressedSize), ("crc", crc), ("status", Int(status))])
    case "write":
        // writes a float32 array of N elements; durable = fsync + rename
        let path = arguments[2], count = Int(arguments[3])!, durable = arguments[4] == "durable"
        let array = NpyArray(float32: [Float](repeating: 1.5, count: count), shape: [count])
        let t0 = now()
        try NpyFile.write(array, to: path, durable: durable)
        emit([("command", command), ("seconds", now() - t0), ("bytes", array.byteCount), ("durable", durable)])
    case "memcpy":
        // memory bandwidth reference: copy N bytes between two touched buffers
        let count = Int(arguments[2])!
        let a = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        let b = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        memset(a, 1, count)
        memset(b, 2, count)
        var best = Double.infinity
        var sum: UInt32 = 0
        for round in 0..<3 {
            memset(a, Int32(round), 4096)
            let t0 = now()
            memcpy(b, a, count)
            best = min(best, now() - t0)
            sum &+= checksum(UnsafeBufferPointer(start: b.bindMemory(to: Float.self, capacity: count / 4), count: count / 4))
        }
        emit([("command", command), ("seconds", best), ("bytes", count), ("checksum", sum)])
    default:
        print("unknown command \(command)")
        exit(2)
    }
} catch {
    print("error: \(error)")
    exit(1)
}
