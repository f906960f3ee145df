import Foundation
import NpyIO
import Testing
import TestSupport

/// `.safetensors` weights and PyTorch checkpoints through the built binary. The .safetensors files are
/// fixtures written by the `safetensors` package (scripts/reference/make_safetensors_fixtures.py).
@Suite struct SafetensorsCommandTests {
    func fixture(_ name: String) -> String { fixturesURL("safetensors/\(name)").path }

    /// Runs `fuse` on the fixture inputs with `weights`, writing `out` in `folder`; returns the output bytes.
    func fuse(_ weights: String, _ extra: [String] = [], in folder: TemporaryFolder, out: String) throws -> (CommandOutcome, Data?) {
        let outcome = try Fusectl.run(["fuse", "--weights", weights, "--text", fixture("text.npy"),
                                       "--images", fixture("images.npy"), "--out", folder.path(out)] + extra)
        return (outcome, try? Data(contentsOf: folder.url.appendingPathComponent(out)))
    }

    @Test(arguments: [("f32.safetensors", "weights.npz"), ("bf16.safetensors", "bf16.npz"),
                      ("f16.safetensors", "f16.npz"), ("f64.safetensors", "f64.npz")])
    func safetensorsFuseLikeTheirNpzTwin(_ weights: String, _ twin: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let (ours, oursData) = try fuse(fixture(weights), in: folder, out: "a.npy")
        let (theirs, theirsData) = try fuse(fixture(twin), in: folder, out: "b.npy")
        try #require(ours.status == 0 && theirs.status == 0, "\(ours.stderr) \(theirs.stderr)")
        #expect(oursData != nil && oursData == theirsData)
    }

    @Test func anAgentCheckpointWithPrefixAndAFileWithoutMetadata() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let (plain, plainData) = try fuse(fixture("weights.npz"), in: folder, out: "plain.npy")
        try #require(plain.status == 0, "\(plain.stderr)")
        let (agent, agentData) = try fuse(fixture("agent.safetensors"), ["--prefix", "policy.fusion.", "--explain"], in: folder, out: "agent.npy")
        try #require(agent.status == 0, "\(agent.stderr)")
        #expect(agent.stderr.split(separator: "\n").first == "weights \(fixture("agent.safetensors")): 28 tensors under the prefix \"policy.fusion.\" used, 3 outside it left aside (policy.head.bias, policy.head.weight, value.steps)")
        #expect(agentData == plainData)
        let (bare, bareData) = try fuse(fixture("bare.safetensors"), ["--config", fixture("config.json")], in: folder, out: "bare.npy")
        #expect(bare.status == 0, "\(bare.stderr)")
        #expect(bareData == plainData)
        let (missing, missingData) = try fuse(fixture("bare.safetensors"), in: folder, out: "missing.npy")
        #expect(missing.status == 1 && missingData == nil)
        #expect(missing.stderr == "fusectl fuse: error: \(fixture("bare.safetensors")): no configuration: the weights file has no \"config\" entry and no configuration JSON was given; give one with --config FILE (a JSON object, docs/model.md \"Configuration\")\n")
    }

    @Test func aTruncatedFileIsACleanError() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture("f32.safetensors")))
        let cut = folder.path("cut.safetensors")
        try bytes.prefix(bytes.count - 4).write(to: URL(fileURLWithPath: cut))
        let (outcome, data) = try fuse(cut, in: folder, out: "out.npy")
        #expect(outcome.status == 1 && data == nil)
        #expect(outcome.stderr == "fusectl fuse: error: \(cut): tensor 'vision_proj.proj.weight': data_offsets [22912, 24192] outside the 24188 data bytes (or end before begin)\n")
    }

    @Test func inspectListsTheTensors() throws {
        let outcome = try Fusectl.run(["inspect", "--json", fixture("bf16.safetensors")])
        try #require(outcome.status == 0, "\(outcome.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: outcome.stdout) as? [[String: Any]])
        #expect(rows.count == 28)
        let bias = try #require(rows.first { $0["name"] as? String == "fusor.final_norm.bias" })
        #expect(bias["dtype"] as? String == "bfloat16")
        #expect(bias["shape"] as? [Int] == [16])
        #expect(bias["bytes"] as? Int == 32)
    }

    /// A zip with a `data.pkl` member, as `torch.save` writes: named as a PyTorch checkpoint, with the
    /// converter to use, instead of "member 'archive/data.pkl' is not a .npy".
    @Test func aPyTorchCheckpointIsNamedAndTheConverterPointedTo() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let checkpoint = folder.path("model.pt")
        try Data(storedZip([("model/data.pkl", Array("\u{80}\u{02}}q\u{00}.".utf8)), ("model/version", Array("3\n".utf8))]))
            .write(to: URL(fileURLWithPath: checkpoint))
        let (outcome, data) = try fuse(checkpoint, in: folder, out: "out.npy")
        #expect(outcome.status == 1 && data == nil)
        #expect(outcome.stderr == "fusectl fuse: error: \(checkpoint): a PyTorch checkpoint (torch.save's zip, with the pickle 'model/data.pkl'), not a weights .npz or .safetensors file; convert it with scripts/convert_checkpoint.py (see docs/model.md)\n")
        let inspected = try Fusectl.run(["inspect", checkpoint])
        #expect(inspected.status == 1)
        #expect(inspected.stderr == "fusectl inspect: error: \(checkpoint) member 'model/data.pkl' at byte 0: a pickle: the archive is a PyTorch checkpoint (torch.save's zip), not a .npz; convert it with scripts/convert_checkpoint.py\n")
    }
}

/// A zip archive of stored members, as a minimal writer would make it (no zip64, no extra fields).
func storedZip(_ members: [(name: String, data: [UInt8])]) -> [UInt8] {
    func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
    func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
    var out: [UInt8] = [], central: [UInt8] = []
    for (name, data) in members {
        let offset = UInt32(out.count), crc = crc32(data), size = UInt32(data.count), nameBytes = Array(name.utf8)
        out += le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc) + le32(size) + le32(size)
            + le16(nameBytes.count) + le16(0) + nameBytes + data
        central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc)
            + le32(size) + le32(size) + le16(nameBytes.count) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0)
            + le32(offset) + nameBytes
    }
    let centralOffset = UInt32(out.count)
    out += central + le32(0x0605_4B50) + le16(0) + le16(0) + le16(members.count) + le16(members.count)
        + le32(UInt32(central.count)) + le32(centralOffset) + le16(0)
    return out
}
