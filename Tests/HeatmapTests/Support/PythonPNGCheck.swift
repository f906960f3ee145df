import Foundation
import TestSupport
import Testing

/// Decodes a PNG file with Python's `zlib` and `struct` (independently of the Swift decoder) and
/// returns `width height` followed by the requested pixels.
enum PythonPNGCheck {
    static let script = """
        import struct, sys, zlib
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'signature'
        pos, idat, ihdr = 8, b'', None
        while pos < len(data):
            length, kind = struct.unpack('>I4s', data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + length]
            crc, = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
            assert zlib.crc32(kind + body) == crc, 'crc of ' + kind.decode()
            if kind == b'IHDR': ihdr = struct.unpack('>IIBBBBB', body)
            if kind == b'IDAT': idat += body
            pos += 12 + length
        width, height, depth, colour, _, _, interlace = ihdr
        assert (depth, colour, interlace) == (8, 2, 0), ihdr
        raw = zlib.decompress(idat)
        stride = 3 * width
        assert len(raw) == height * (stride + 1), len(raw)
        assert all(raw[y * (stride + 1)] == 0 for y in range(height)), 'filter'
        out = [width, height]
        for xy in sys.argv[2:]:
            x, y = map(int, xy.split(','))
            start = y * (stride + 1) + 1 + 3 * x
            out += list(raw[start:start + 3])
        print(' '.join(map(str, out)))
        """

    /// The python3 on PATH; ends the test when there is none (a failure under CI=true, a skip elsewhere).
    static func python3(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        let path = executableOnPath("python3")
        try requireAvailable(path != nil, "python3 on PATH (to decode the PNG independently)", sourceLocation: sourceLocation)
        return URL(fileURLWithPath: path!)
    }

    /// Runs the script on `file`; the result is `[width, height, r, g, b, r, g, b, …]`.
    static func decode(file: URL, pixels: [(x: Int, y: Int)], python: URL) throws -> [Int] {
        let process = Process()
        process.executableURL = python
        process.arguments = ["-c", script, file.path] + pixels.map { "\($0.x),\($0.y)" }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PNGDecodeError("python3 failed (\(process.terminationStatus)): \(errorText)")
        }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    }
}
