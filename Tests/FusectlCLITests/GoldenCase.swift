import Foundation
import TestSupport

extension GoldenCase {
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
}
