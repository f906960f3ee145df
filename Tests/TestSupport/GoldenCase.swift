import Foundation

/// One golden case's `fixtures/golden/<case>/case.json` (format: fixtures/golden/README.md), shared
/// by the library tests and the command-line tests.
public struct GoldenCase: Decodable, Sendable, CustomStringConvertible {
    public struct Inputs: Decodable, Sendable {
        public let text: String
        public let images: String
        public let text_lengths: String?
        public let text_mask: String?
        public let image_lengths: String?
    }
    public struct Expected: Decodable, Sendable {
        public let output: String
        public let attention: String?
    }
    public let `case`: String
    public let weights: String
    public let prefix: String?
    public let config_file: String?
    public let inputs: Inputs
    public let per_step: Bool
    public let expected: Expected
    public let batch: String?

    public var description: String { self.case }

    /// fixtures/golden.
    public static let root = fixturesURL("golden")

    /// The case's folder.
    public var directory: URL { Self.root.appendingPathComponent(self.case) }

    /// A file of the case, as a path.
    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Reads `fixtures/golden/<name>/case.json`.
    public static func load(_ name: String) throws -> GoldenCase {
        let data = try Data(contentsOf: root.appendingPathComponent(name).appendingPathComponent("case.json"))
        return try JSONDecoder().decode(GoldenCase.self, from: data)
    }

    /// One entry of fixtures/golden/MANIFEST.json's `cases` (the fields the tests use).
    public struct ManifestEntry: Decodable, Sendable {
        public let `case`: String
        public let per_step: Bool
    }

    /// Every case that fixtures/golden/MANIFEST.json lists (the shipped cases, in its order), or nil when
    /// the manifest cannot be read (`GoldenTests.everyShippedCaseLoads` then fails).
    public static let manifest: [ManifestEntry]? = {
        struct Manifest: Decodable { let cases: [ManifestEntry] }
        guard let data = try? Data(contentsOf: root.appendingPathComponent("MANIFEST.json")) else { return nil }
        return try? JSONDecoder().decode(Manifest.self, from: data).cases
    }()

    /// The names of every shipped case (MANIFEST.json), sorted. Tests take these as arguments and load
    /// each with a throwing `load`, so that a case that fails to load fails its test (never dropped).
    public static let names: [String] = (manifest ?? []).map(\.case).sorted()

    /// The shipped plain (not per-step) cases, sorted.
    public static let plainNames: [String] = (manifest ?? []).filter { !$0.per_step }.map(\.case).sorted()

    /// The folders under fixtures/golden that hold a case.json, sorted (must equal `names`).
    public static let folderNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter {
            FileManager.default.fileExists(atPath: root.appendingPathComponent($0).appendingPathComponent("case.json").path)
        }.sorted()
    }()
}
