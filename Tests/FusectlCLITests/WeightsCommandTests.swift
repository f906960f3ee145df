import Foundation
import NpyIO
import Testing

/// Weights as users have them, through the built binary: a whole agent checkpoint with `--prefix`,
/// non-finite weights, errors naming the weights file.
@Suite struct WeightsCommandTests {
    /// Rewrites the workspace's w.npz as `name`: every tensor under `prefix`, `extra` members added,
    /// `replace` members substituted (by their unprefixed key), the config member kept unprefixed.
    func rewrite(_ w: TinyWorkspace, as name: String, prefix: String, extra: [String: NpyArray] = [:],
                 replace: [String: NpyArray] = [:]) throws {
        let archive = try NpzArchive(path: w.folder.path("w.npz"))
        var writer = NpzWriter(compression: .stored, alignment: 64)
        for member in archive.memberNames {
            if member == "config" {
                writer.add(member, try archive.array(named: member))
            } else {
                writer.add(prefix + member, try replace[member] ?? archive.array(named: member))
            }
        }
        for (key, array) in extra.sorted(by: { $0.key < $1.key }) {
            writer.add(key, array)
        }
        try writer.write(to: w.folder.path(name))
    }

    func fuse(_ w: TinyWorkspace, weights: String, _ extra: [String] = [], out: String = "out.npy") throws -> CommandOutcome {
        try Fusectl.run(["fuse", "--weights", w.folder.path(weights), "--text", w.folder.path("text.npy"),
                         "--images", w.folder.path("images.npy"), "--out", w.folder.path(out)] + extra)
    }

    @Test func aWholeAgentCheckpointWithAPrefixFusesLikeTheBareModel() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try rewrite(w, as: "agent.npz", prefix: "policy.fusion.", extra: [
            "policy.head.weight": NpyArray(float32: [Float](repeating: 0.5, count: 12), shape: [3, 4]),
            "policy.head.bias": NpyArray(float32: [.nan, 1, 2], shape: [3]),
            "value.linear.weight": NpyArray(int64: [1, 2], shape: [2]),
        ])
        let bare = try fuse(w, weights: "w.npz", out: "bare.npy")
        try #require(bare.status == 0, "\(bare.stderr)")
        let agent = try fuse(w, weights: "agent.npz", ["--prefix", "policy.fusion.", "--explain"], out: "agent.npy")
        try #require(agent.status == 0, "\(agent.stderr)")
        #expect(agent.stderr.split(separator: "\n").first == "weights \(w.folder.path("agent.npz")): 26 tensors under the prefix \"policy.fusion.\" used, 3 outside it left aside (policy.head.bias, policy.head.weight, value.linear.weight)")
        #expect(try Data(contentsOf: w.folder.url.appendingPathComponent("agent.npy"))
                == Data(contentsOf: w.folder.url.appendingPathComponent("bare.npy")))
    }

    @Test func errorsInsideThePrefixNameTheFileAndTheKey() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try rewrite(w, as: "agent.npz", prefix: "policy.fusion.", extra: [
            "policy.fusion.fusor.blocks.0.attn.dropout": NpyArray(float32: [0], shape: [1]),
        ])
        let outcome = try fuse(w, weights: "agent.npz", ["--prefix", "policy.fusion."])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "fusectl fuse: error: \(w.folder.path("agent.npz")): unexpected weight \"policy.fusion.fusor.blocks.0.attn.dropout\": not a tensor of the fusion model\n")
        #expect(!w.outputExists)
        let wrongPrefix = try fuse(w, weights: "w.npz", ["--prefix", "policy.fusion."])
        #expect(wrongPrefix.stderr == "fusectl fuse: error: \(w.folder.path("w.npz")): no tensor starts with the prefix \"policy.fusion.\" (all 26 tensors are outside it, such as \"fusor.blocks.0.attn.in_proj_bias\"); they look like the model's own keys: drop the prefix\n")
    }

    @Test func nonFiniteWeightsAreAnErrorUnlessAllowed() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        var values = try NpzArchive(path: w.folder.path("w.npz")).array(named: "fusor.blocks.1.ffn.2.weight").float32Elements()
        values[1 * 16 + 9] = .infinity
        try rewrite(w, as: "bad.npz", prefix: "", replace: ["fusor.blocks.1.ffn.2.weight": NpyArray(float32: values, shape: [8, 16])])
        let outcome = try fuse(w, weights: "bad.npz")
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "fusectl fuse: error: \(w.folder.path("bad.npz")): weight \"fusor.blocks.1.ffn.2.weight\": non-finite value inf at [1, 9]\n")
        #expect(!w.outputExists)
        let allowed = try fuse(w, weights: "bad.npz", ["--allow-nonfinite"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(w.outputExists)
    }
}
