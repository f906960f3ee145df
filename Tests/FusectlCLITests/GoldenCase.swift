import Foundation

/// One `fixtures/golden/<case>/case.json` (see fixtures/golden/README.md).
struct GoldenCase: Decodable, CustomStringConvertible {
    struct Inputs: Decodable {
        var text: String
        var images: String
        var text_lengths: String?
        var text_mask: String?
        var image_lengths: String?
    }
    struct Expected: Decodable {
        var output: String
        var attention: String?
    }
    var `case`: String
    var weights: String
    var prefix: String?
    var config_file: String?
    var inputs: Inputs
    var per_step: Bool
    var expected: Expected
    var batch: String?

    var directory: URL { GoldenCase.root.appendingPathComponent(self.case) }
    var description: String { self.case }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// `fusectl fuse` arguments for the model and inputs (separate files unless `useBundle`).
    func fuseArguments(useBundle: Bool = false) -> [String] {
        var arguments = ["fuse", "--weights", path(weights)]
        if let prefix { arguments += ["--prefix", prefix] }
        if let config_file { arguments += ["--config", path(config_file)] }
        if useBundle, let batch {
            arguments += ["--batch", path(batch)]
        } else {
            arguments += ["--text", path(inputs.text), "--images", path(inputs.images)]
            if let file = inputs.text_lengths { arguments += ["--text-lengths", path(file)] }
            if let file = inputs.text_mask { arguments += ["--text-mask", path(file)] }
            if let file = inputs.image_lengths { arguments += ["--image-lengths", path(file)] }
        }
        if per_step { arguments.append("--per-step") }
        return arguments
    }

    static let root = fixturesURL.appendingPathComponent("golden")

    static let all: [GoldenCase] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().compactMap { name in
            let file = root.appendingPathComponent(name).appendingPathComponent("case.json")
            guard let data = try? Data(contentsOf: file) else { return nil }
            return try? JSONDecoder().decode(GoldenCase.self, from: data)
        }
    }()
}
