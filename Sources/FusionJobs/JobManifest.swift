import Foundation
import NpyIO

/// A list of fusion jobs, one a line, as TSV or JSON Lines.
///
/// Columns (TSV header names and JSON keys): `text`, `images`, `out` (required), `image_lengths`,
/// `text_mask`, `text_lengths`, `attention` (optional). Blank lines and lines starting with `#` are
/// skipped.
///
/// - TSV: fields separated by tabs. A first line whose fields are all column names is a header and
///   sets the order; without one the order is `text images out image_lengths text_mask text_lengths
///   attention`, trailing columns may be left out, and an empty field means "absent".
/// - JSON Lines: a line starting with `{` is one object with string values for those keys.
///
/// Relative paths are taken relative to the manifest's folder (the current folder when the
/// manifest comes from standard input), so a dataset can ship its manifest beside its files.
public struct JobManifest: Sendable {
    public static let columns = ["text", "images", "out", "image_lengths", "text_mask", "text_lengths", "attention"]

    /// The manifest's path as given ("-" for standard input).
    public let path: String
    public let jobs: [Job]

    /// Parses `text`, read from `path`.
    ///
    /// - Parameter outputDType: the dtype every job writes its output in.
    /// - Throws: `JobError.manifest` naming the line: unknown column or key, a missing required
    ///   field, both text lengths and a mask, malformed JSON.
    public init(text: String, path: String, outputDType: NpyDType = .float32) throws {
        self.path = path
        let base = path == "-" ? "" : (path as NSString).deletingLastPathComponent
        let name = path == "-" ? "<stdin>" : path
        var order = Self.columns
        var jobs: [Job] = []
        var sawContent = false
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            func fail(_ message: String) -> JobError { .manifest(path: name, line: lineNumber, message) }
            var fields: [String: String]
            if trimmed.hasPrefix("{") {
                fields = try Self.jsonFields(trimmed, fail: fail)
            } else {
                let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                if !sawContent && cells.allSatisfy({ Self.columns.contains($0) }) {
                    guard Set(cells).count == cells.count else { throw fail("a column is named twice in the header") }
                    order = cells
                    sawContent = true
                    continue
                }
                guard cells.count <= order.count else {
                    throw fail("\(cells.count) fields, but only \(order.count) columns (\(order.joined(separator: ", ")))")
                }
                fields = [:]
                for (column, cell) in zip(order, cells) where !cell.isEmpty {
                    fields[column] = cell
                }
            }
            sawContent = true
            for required in ["text", "images", "out"] where fields[required] == nil {
                throw fail("missing '\(required)'")
            }
            if fields["text_lengths"] != nil && fields["text_mask"] != nil {
                throw fail("give at most one of 'text_lengths' and 'text_mask'")
            }
            func resolved(_ key: String) -> String? {
                guard let value = fields[key] else { return nil }
                return value.hasPrefix("/") || base.isEmpty ? value : base + "/" + value
            }
            jobs.append(Job(
                index: jobs.count, line: lineNumber,
                inputs: InputFiles(text: resolved("text"), images: resolved("images"),
                                   textLengths: resolved("text_lengths"), textMask: resolved("text_mask"),
                                   imageLengths: resolved("image_lengths")),
                outputs: OutputFiles(output: resolved("out")!, attention: resolved("attention"), dtype: outputDType)))
        }
        self.jobs = jobs
    }

    private static func jsonFields(_ line: String, fail: (String) -> JobError) throws -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw fail("not a JSON object")
        }
        var fields: [String: String] = [:]
        for (key, value) in object {
            guard columns.contains(key) else {
                throw fail("unknown key '\(key)' (known: \(columns.joined(separator: ", ")))")
            }
            if value is NSNull { continue }
            guard let text = value as? String, !text.isEmpty else { throw fail("'\(key)' must be a non-empty string") }
            fields[key] = text
        }
        return fields
    }
}
