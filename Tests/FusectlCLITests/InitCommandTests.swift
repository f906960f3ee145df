import Foundation
import TestSupport
import Testing

/// `fusectl init` writes archives whose stored members are 64-byte aligned, so that `fuse` reads their
/// float32 weights in place; numpy reads them, and a copy re-saved by numpy (members at arbitrary
/// offsets, copied on load) gives the same bits.
@Suite struct InitCommandTests {
    @Test func alignedArchiveIsReadByNumpyAndFusesLikeNumpysOwnCopy() throws {
        try PythonNumpy.require()
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        // For each member: its array data's file offset modulo 64 (in our file) and modulo 4 (in
        // numpy's re-saved copy, whose members only sometimes land 4-byte aligned).
        let script = """
        import sys, struct, zipfile, numpy as np
        def offsets(path):
            raw = open(path, 'rb').read()
            result = []
            for i in zipfile.ZipFile(path).infolist():
                h = i.header_offset
                name_length, extra_length = struct.unpack('<HH', raw[h + 26:h + 30])
                start = h + 30 + name_length + extra_length
                header_length, = struct.unpack('<H', raw[start + 8:start + 10])
                result.append(start + 10 + header_length)
            return result
        ours, copy = sys.argv[1], sys.argv[2]
        d = np.load(ours)
        np.savez(copy, **{k: d[k] for k in d.files})
        print(len(d.files), sorted(set(o % 64 for o in offsets(ours))), any(o % 4 for o in offsets(copy)))
        """
        let output = try PythonNumpy.run(script, arguments: [w.folder.path("w.npz"), w.folder.path("numpy.npz")])
        #expect(output == "27 [0] True\n")
        var outputs: [Data] = []
        for weights in ["w.npz", "numpy.npz"] {
            let outcome = try Fusectl.run([
                "fuse", "--weights", w.folder.path(weights), "--text", w.folder.path("text.npy"),
                "--images", w.folder.path("images.npy"), "--out", w.folder.path("out-\(weights).npy"),
            ])
            try #require(outcome.status == 0, "fuse on \(weights): \(outcome.stderr)")
            outputs.append(try Data(contentsOf: w.folder.url.appendingPathComponent("out-\(weights).npy")))
        }
        #expect(outputs[0] == outputs[1], "weights read in place and copied from numpy's layout differ")
    }
}
