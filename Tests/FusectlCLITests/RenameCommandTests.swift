import Foundation
import NpyIO
import Testing

/// A state_dict under the user's own module names, through the built binary: `--rename` on fuse,
/// stream and inspect, and one error listing every problem with shape-based suggestions.
@Suite struct RenameCommandTests {
    /// The workspace's weights with `names` (model key → the user's key) renamed, under `prefix`,
    /// plus `extra` members; the config member kept as `config`.
    func userCheckpoint(_ w: TinyWorkspace, as name: String, prefix: String = "", names: [String: String],
                        extra: [String: NpyArray] = [:]) throws {
        let archive = try NpzArchive(path: w.folder.path("w.npz"))
        var writer = NpzWriter(compression: .stored, alignment: 64)
        for member in archive.memberNames {
            let key = member == "config" ? member : prefix + (names[member] ?? member)
            writer.add(key, try archive.array(named: member))
        }
        for (key, array) in extra.sorted(by: { $0.key < $1.key }) { writer.add(key, array) }
        try writer.write(to: w.folder.path(name))
    }

    let userNames = [
        "text_proj.proj.weight": "txt_proj.weight",
        "vision_proj.proj.weight": "img_proj.weight",
        "fusor.blocks.1.norm2.weight": "fusor.blocks.1.ln2.weight",
    ]
    let fixingRules = ["--rename", "txt_proj.=text_proj.proj.", "--rename", "img_proj.=vision_proj.proj.",
                       "--rename", "fusor.blocks.1.ln2.=fusor.blocks.1.norm2."]

    func fuse(_ w: TinyWorkspace, weights: String, _ extra: [String] = [], out: String = "out.npy") throws -> CommandOutcome {
        try Fusectl.run(["fuse", "--weights", w.folder.path(weights), "--text", w.folder.path("text.npy"),
                         "--images", w.folder.path("images.npy"), "--out", w.folder.path(out)] + extra)
    }

    @Test func oneErrorListsEveryUnexpectedAndMissingKeyWithSuggestions() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try userCheckpoint(w, as: "user.npz", names: userNames,
                           extra: ["fusor.blocks.0.attn.dropout": NpyArray(float32: [0], shape: [1])])
        let outcome = try fuse(w, weights: "user.npz")
        #expect(outcome.status == 1)
        #expect(outcome.stderr == """
            fusectl fuse: error: \(w.folder.path("user.npz")): the tensors do not match the model's weights (4 unexpected, 3 missing):
              unexpected "fusor.blocks.0.attn.dropout" (1,): not a tensor of the fusion model
              unexpected "fusor.blocks.1.ln2.weight" (8,) looks like "fusor.blocks.1.norm2.weight"
              unexpected "img_proj.weight" (8, 5) looks like "vision_proj.proj.weight"
              unexpected "txt_proj.weight" (8, 6) looks like "text_proj.proj.weight"
              missing "text_proj.proj.weight": expected shape (8, 6) from the configuration's (proj_dim, txt_latent_dim)
              missing "vision_proj.proj.weight": expected shape (8, 5) from the configuration's (proj_dim, img_latent_dim)
              missing "fusor.blocks.1.norm2.weight": expected shape (8,) from the configuration's (proj_dim,), block 1 of n_blocks = 2
              the suggested names follow from: --rename fusor.blocks.1.ln2.=fusor.blocks.1.norm2. --rename img_proj.=vision_proj.proj. --rename txt_proj.=text_proj.proj.

            """)
        #expect(!w.outputExists)
    }

    @Test func renameRulesLoadTheUsersNamesBitForBit() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try userCheckpoint(w, as: "user.npz", names: userNames)
        let bare = try fuse(w, weights: "w.npz", out: "bare.npy")
        try #require(bare.status == 0, "\(bare.stderr)")
        let renamed = try fuse(w, weights: "user.npz", fixingRules + ["--explain"], out: "renamed.npy")
        try #require(renamed.status == 0, "\(renamed.stderr)")
        #expect(renamed.stderr.split(separator: "\n").first == "weights \(w.folder.path("user.npz")): 26 tensors used; 3 renamed (fusor.blocks.1.ln2.weight -> fusor.blocks.1.norm2.weight, img_proj.weight -> vision_proj.proj.weight, txt_proj.weight -> text_proj.proj.weight)")
        #expect(try Data(contentsOf: w.folder.url.appendingPathComponent("renamed.npy"))
                == Data(contentsOf: w.folder.url.appendingPathComponent("bare.npy")))
    }

    @Test func renameRulesApplyInsideThePrefixAndErrorsNameTheFilesKeys() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try userCheckpoint(w, as: "agent.npz", prefix: "policy.fusion.", names: userNames,
                           extra: ["policy.head.weight": NpyArray(float32: [1, 2], shape: [2])])
        let fixed = try fuse(w, weights: "agent.npz", ["--prefix", "policy.fusion."] + fixingRules)
        #expect(fixed.status == 0, "\(fixed.stderr)")
        // One rule wrong: the renamed key is shown beside the file's, and the suggestion is over the file's name.
        let wrong = try fuse(w, weights: "agent.npz", ["--prefix", "policy.fusion.", "--rename", "img_proj.=vision.",
                                                       "--rename", "txt_proj.=text_proj.proj.",
                                                       "--rename", "fusor.blocks.1.ln2.=fusor.blocks.1.norm2."])
        #expect(wrong.status == 1)
        #expect(wrong.stderr == """
            fusectl fuse: error: \(w.folder.path("agent.npz")): the tensors do not match the model's weights (1 unexpected, 1 missing):
              unexpected "policy.fusion.img_proj.weight" (renamed to "vision.weight") (8, 5) looks like "vision_proj.proj.weight"
              missing "policy.fusion.vision_proj.proj.weight": expected shape (8, 5) from the configuration's (proj_dim, img_latent_dim)
              the suggested names follow from: --rename img_proj.=vision_proj.proj.

            """)
    }

    @Test func badRulesAreNamed() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        let typo = try fuse(w, weights: "w.npz", ["--rename", "vison_proj.=vision_proj."])
        #expect(typo.status == 1)
        #expect(typo.stderr == "fusectl fuse: error: \(w.folder.path("w.npz")): rename rule \"vison_proj.=vision_proj.\": no tensor name starts with \"vison_proj.\"\n")
        let collision = try fuse(w, weights: "w.npz", ["--rename", "fusor.blocks.1.=fusor.blocks.0."])
        #expect(collision.status == 1)
        #expect(collision.stderr == "fusectl fuse: error: \(w.folder.path("w.npz")): rename rule \"fusor.blocks.1.=fusor.blocks.0.\": \"fusor.blocks.0.attn.in_proj_bias\" and \"fusor.blocks.1.attn.in_proj_bias\" would both become \"fusor.blocks.0.attn.in_proj_bias\"\n")
        let syntax = try fuse(w, weights: "w.npz", ["--rename", "img_proj"])
        #expect(syntax.status == 64)
        #expect(syntax.stderr.hasPrefix("Error: --rename img_proj: expected OLD_PREFIX=NEW_PREFIX (e.g. img_proj.=vision_proj.proj.)\n"))
    }

    @Test func streamAndInspectTakeTheSameRules() throws {
        let w = try TinyWorkspace()
        defer { w.folder.remove() }
        try userCheckpoint(w, as: "user.npz", names: userNames)
        try w.save("instruction.npy", (0..<12).map { Float($0) / 12 }, [2, 6])
        let frames = Data(NpyFile.encode(NpyArray(float32: [0.1, -0.2, 0.3, 0.4, -0.5], shape: [5])))
        let streamed = try Fusectl.run(["stream", "--weights", w.folder.path("user.npz"), "--text",
                                        w.folder.path("instruction.npy")] + fixingRules, stdin: frames)
        #expect(streamed.status == 0, "\(streamed.stderr)")
        let bare = try Fusectl.run(["stream", "--weights", w.folder.path("w.npz"), "--text",
                                    w.folder.path("instruction.npy")], stdin: frames)
        #expect(streamed.stdout == bare.stdout)
        #expect(streamed.stdout.count > 0)

        let inspected = try Fusectl.run(["inspect", "--weights", w.folder.path("user.npz")] + fixingRules)
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdoutText.hasSuffix("\nweights \(w.folder.path("user.npz")): 26 tensors used; 3 renamed (fusor.blocks.1.ln2.weight -> fusor.blocks.1.norm2.weight, img_proj.weight -> vision_proj.proj.weight, txt_proj.weight -> text_proj.proj.weight)\n"))
        let unchecked = try Fusectl.run(["inspect", "--weights", w.folder.path("user.npz")])
        #expect(unchecked.status == 1)
        #expect(unchecked.stderr.hasPrefix("fusectl inspect: error: \(w.folder.path("user.npz")): the tensors do not match the model's weights (3 unexpected, 3 missing):\n"))
        let noFlag = try Fusectl.run(["inspect", w.folder.path("user.npz"), "--rename", "a=b"])
        #expect(noFlag.status == 64)
    }
}
