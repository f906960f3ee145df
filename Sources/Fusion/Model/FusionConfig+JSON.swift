import NpyIO

extension FusionConfig {
    /// Parses a configuration JSON object; absent keys take the defaults of docs/model.md, and the result is validated.
    ///
    /// - Parameters:
    ///   - json: a JSON object such as `{"proj_dim": 36, "n_heads": 3}`.
    ///   - origin: where the text came from, used in error messages (`config.json`, `weights.npz:config`).
    /// - Throws: ``FusionError/malformedConfig(origin:detail:)`` for text that is not a JSON object,
    ///   ``FusionError/unknownConfigKey(origin:key:)`` for a key the configuration does not define,
    ///   ``FusionError/invalidConfigValue(origin:key:expected:found:)`` for a wrong type or a value
    ///   ``validate()`` rejects.
    public static func decode(json: String, origin: String) throws -> FusionConfig {
        let parsed: JSONValue
        do {
            // A byte order mark before the object (some editors write one) is not part of the JSON.
            parsed = try JSONValue(JSONText.parse(json.hasPrefix("\u{FEFF}") ? String(json.dropFirst()) : json))
        } catch let duplicate as JSONValue.DuplicateKey {
            throw FusionError.malformedConfig(origin: origin, detail: "the key \"\(duplicate.key)\" appears twice")
        } catch {
            throw FusionError.malformedConfig(origin: origin, detail: "invalid JSON")
        }
        return try FusionConfig(parsed, origin: origin)
    }

    /// Decodes from any `Decoder` with the same rules as ``decode(json:origin:)``
    /// (unknown keys and invalid values throw ``FusionError``; absent keys take defaults).
    public init(from decoder: Decoder) throws {
        try self.init(JSONValue(from: decoder), origin: "configuration")
    }

    /// Builds a configuration from a parsed JSON object and validates it.
    init(_ parsed: JSONValue, origin: String) throws {
        guard case .object(let dictionary) = parsed else {
            throw FusionError.malformedConfig(origin: origin, detail: "found \(parsed.kind) instead")
        }
        for key in dictionary.keys.sorted() where CodingKeys(rawValue: key) == nil {
            throw FusionError.unknownConfigKey(origin: origin, key: key)
        }
        var config = FusionConfig()
        for key in CodingKeys.allCases {
            guard let value = dictionary[key.rawValue] else { continue }
            try config.assign(value, to: key, origin: origin)
        }
        try config.validate(origin: origin)
        self = config
    }

    /// The configuration as one line of JSON: every key, sorted, e.g.
    /// `{"activation": "gelu", "attn_bias": true, …, "txt_latent_dim": 768}`.
    /// Stable: equal configurations give equal strings, and ``decode(json:origin:)`` reads it back.
    public func jsonString() -> String {
        let fields = jsonFields
        let body = fields.keys.sorted().map { "\"\($0)\": \(fields[$0]!)" }.joined(separator: ", ")
        return "{" + body + "}"
    }

    /// The keys whose values differ between this configuration and `other`, sorted, each with both
    /// values as JSON (`n_heads: 8 vs 4`).
    public func differences(from other: FusionConfig) -> [(key: String, this: String, other: String)] {
        let mine = jsonFields
        let theirs = other.jsonFields
        return mine.keys.sorted().compactMap { key in
            mine[key] == theirs[key] ? nil : (key, mine[key]!, theirs[key]!)
        }
    }

    /// Every key with its value written as JSON.
    private var jsonFields: [String: String] {
        var fields: [String: String] = [:]
        fields[CodingKeys.imgLatentDim.rawValue] = String(imgLatentDim)
        fields[CodingKeys.txtLatentDim.rawValue] = String(txtLatentDim)
        fields[CodingKeys.projDim.rawValue] = String(projDim)
        fields[CodingKeys.nHeads.rawValue] = String(nHeads)
        fields[CodingKeys.nBlocks.rawValue] = String(nBlocks)
        fields[CodingKeys.ffnDim.rawValue] = String(ffnDim)
        fields[CodingKeys.normFirst.rawValue] = String(normFirst)
        fields[CodingKeys.activation.rawValue] = "\"\(activation.rawValue)\""
        fields[CodingKeys.layerNormEps.rawValue] = "\(layerNormEps)"
        fields[CodingKeys.finalNorm.rawValue] = String(finalNorm)
        fields[CodingKeys.attnBias.rawValue] = String(attnBias)
        return fields
    }

    /// Stores one JSON value into the field `key`, checking its JSON type.
    private mutating func assign(_ value: JSONValue, to key: CodingKeys, origin: String) throws {
        func mismatch(_ expected: String) -> FusionError {
            .invalidConfigValue(origin: origin, key: key.rawValue, expected: expected, found: value.text)
        }
        switch key {
        case .imgLatentDim, .txtLatentDim, .projDim, .nHeads, .nBlocks, .ffnDim:
            guard case .integer(let integer) = value else { throw mismatch("an integer") }
            switch key {
            case .imgLatentDim: imgLatentDim = integer
            case .txtLatentDim: txtLatentDim = integer
            case .projDim: projDim = integer
            case .nHeads: nHeads = integer
            case .nBlocks: nBlocks = integer
            default: ffnDim = integer
            }
        case .normFirst, .finalNorm, .attnBias:
            guard case .bool(let flag) = value else { throw mismatch("true or false") }
            switch key {
            case .normFirst: normFirst = flag
            case .finalNorm: finalNorm = flag
            default: attnBias = flag
            }
        case .activation:
            let choices = Activation.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            guard case .string(let name) = value, let parsed = Activation(rawValue: name) else {
                throw mismatch("one of \(choices)")
            }
            activation = parsed
        case .layerNormEps:
            guard let number = value.number else { throw mismatch("a number") }
            layerNormEps = number
        }
    }
}
