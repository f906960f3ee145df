import Foundation
import NpyIO

/// A list of fusion jobs, one a line, as TSV or JSON Lines.
///
/// Columns (TSV header names and JSON keys): `out` (required); the inputs either as `text` and
/// `images` (required then) with optional `image_lengths`, `text_mask`, `text_lengths`, or as one
/// `batch` bundle .npz (like `--batch`); `attention` (optional). Blank lines and lines starting with
/// `#` are skipped.
///
/// - TSV: fields separated by tabs. A first line whose fields are all column names is a header and
///   sets the order; without one the order is `text images out image_lengths text_mask text_lengths
///   attention batch`, trailing columns may be left out, and an empty field means "absent". A line
///   without a tab is refused ("expected tab-separated columns"): no job fits in one column.
/// - JSON Lines: one object a line with string values for those keys. A file named `*.jsonl`,
///   `*.ndjson` or `*.json`, or one whose first job line starts with `{`, is JSON Lines throughout;
///   elsewhere a line starting with `{` is read as JSON too.
///
/// Relative paths are taken relative to the manifest's folder (the current folder when the
/// manifest comes from standard input), so a dataset can ship its manifest beside its files.
///
/// The whole manifest is checked before any job runs: every line that cannot be read, and every
/// output file that two jobs (or two columns of one job) would write, is reported.
public struct JobManifest: Sendable {
    public static let columns = [
        "text", "images", "out", "image_lengths", "text_mask", "text_lengths", "attention", "batch",
    ]
    /// The columns that name input files (all but `out` and `attention`).
    static let inputColumns = ["text", "images", "image_lengths", "text_mask", "text_lengths"]

    /// The manifest's path as given ("-" for standard input).
    public let path: String
    public let jobs: [Job]

    /// Parses `text`, read from `path`.
    ///
    /// - Parameters:
    ///   - outputDType: the dtype every job writes its output in.
    ///   - oneSample: every job's files hold one sample each (``InputFiles/oneSample``).
    ///   - extraMembers: what every job's bundle members other than the known ones are (``InputFiles/extraMembers``).
    /// - Throws: `ManifestErrors` listing every problem with its line (`JobError.manifest`): an
    ///   unknown column or key, a missing required field, a line that is not a JSON object or not
    ///   tab-separated, both text lengths and a mask, a bundle beside separate inputs, and output
    ///   paths written twice (naming both lines).
    public init(
        text: String, path: String, outputDType: NpyDType = .float32, oneSample: Bool = false,
        extraMembers: InputFiles.ExtraMembers = .refuse
    ) throws {
        self.path = path
        let base = path == "-" ? "" : (path as NSString).deletingLastPathComponent
        let name = path == "-" ? "<stdin>" : path
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { raw in
            raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
        }
        let firstJobLine = lines.first { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return !trimmed.isEmpty && !trimmed.hasPrefix("#")
        }
        let extensionName = (path as NSString).pathExtension.lowercased()
        let isJSONLines = ["jsonl", "ndjson", "json"].contains(extensionName)
            || (!["tsv", "tab"].contains(extensionName)
                && firstJobLine?.trimmingCharacters(in: .whitespaces).hasPrefix("{") == true)
        var order = Self.columns
        var jobs: [Job] = []
        var problems: [JobError] = []
        var sawContent = false
        for (offset, line) in lines.enumerated() {
            let lineNumber = offset + 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            func fail(_ message: String) -> JobError { .manifest(path: name, line: lineNumber, message) }
            do {
                let fields: [String: String]
                if isJSONLines || trimmed.hasPrefix("{") {
                    fields = try Self.jsonFields(trimmed, fail: fail)
                } else {
                    guard line.contains("\t") else { throw fail(Self.notTabSeparated(trimmed)) }
                    let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map {
                        $0.trimmingCharacters(in: .whitespaces)
                    }
                    if !sawContent && cells.allSatisfy({ Self.columns.contains($0) }) {
                        sawContent = true
                        guard Set(cells).count == cells.count else { throw fail("a column is named twice in the header") }
                        order = cells
                        continue
                    }
                    guard cells.count <= order.count else {
                        throw fail("\(cells.count) fields, but only \(order.count) columns (\(order.joined(separator: ", ")))")
                    }
                    var cellFields: [String: String] = [:]
                    for (column, cell) in zip(order, cells) where !cell.isEmpty {
                        cellFields[column] = cell
                    }
                    fields = cellFields
                }
                sawContent = true
                try Self.checkColumns(fields, fail: fail)
                func resolved(_ key: String) -> String? {
                    guard let value = fields[key] else { return nil }
                    return value.hasPrefix("/") || base.isEmpty ? value : base + "/" + value
                }
                var outputs = OutputFiles(output: resolved("out")!, attention: resolved("attention"), dtype: outputDType)
                outputs.createFolders = true
                var inputs = InputFiles(text: resolved("text"), images: resolved("images"),
                                        textLengths: resolved("text_lengths"), textMask: resolved("text_mask"),
                                        imageLengths: resolved("image_lengths"), batch: resolved("batch"))
                inputs.oneSample = oneSample
                inputs.extraMembers = extraMembers
                jobs.append(Job(
                    index: jobs.count, line: lineNumber,
                    inputs: inputs, outputs: outputs))
            } catch let problem as JobError {
                problems.append(problem)
            }
        }
        problems += Self.sharedOutputs(jobs, manifest: name)
        if !problems.isEmpty {
            throw ManifestErrors(problems: problems.sorted { $0.line < $1.line })
        }
        self.jobs = jobs
    }

    /// What a line without a tab looks like, for the message.
    private static func notTabSeparated(_ line: String) -> String {
        let found = line.contains(",") ? "a comma-separated line"
            : line.contains(" ") ? "a space-separated line" : "a single field"
        return "expected tab-separated columns (\(columns.prefix(3).joined(separator: "<TAB>"))...), found \(found)"
    }

    /// Required fields and the combinations a job cannot have.
    private static func checkColumns(_ fields: [String: String], fail: (String) -> JobError) throws {
        if fields["batch"] != nil {
            let separate = inputColumns.filter { fields[$0] != nil }
            if !separate.isEmpty {
                throw fail("give either 'batch' or the separate inputs, not both (found 'batch' and '\(separate[0])')")
            }
        } else {
            for required in ["text", "images"] where fields[required] == nil {
                throw fail("missing '\(required)' (or a 'batch' bundle)")
            }
        }
        if fields["out"] == nil { throw fail("missing 'out'") }
        if fields["text_lengths"] != nil && fields["text_mask"] != nil {
            throw fail("give at most one of 'text_lengths' and 'text_mask'")
        }
    }

    /// Every output file written by two jobs, or by two columns of one job (a shared .npz for
    /// `out` and `attention` excepted), compared after resolving links and `..`.
    private static func sharedOutputs(_ jobs: [Job], manifest name: String) -> [JobError] {
        var writers: [String: (line: Int, column: String)] = [:]
        var problems: [JobError] = []
        for job in jobs {
            var targets = [("out", job.outputs.output)]
            if let attention = job.outputs.attention, !job.outputs.sharesArchive {
                targets.append(("attention", attention))
            }
            for (column, file) in targets where file != "-" {
                let key = OutputPath.resolved(file)
                if let first = writers[key] {
                    let owner = first.line == job.line ? "its '\(first.column)'" : "line \(first.line) ('\(first.column)')"
                    problems.append(.manifest(path: name, line: job.line,
                        "'\(column)' \(file) is also written by \(owner); each output needs its own file"))
                } else {
                    writers[key] = (job.line, column)
                }
            }
        }
        return problems
    }

    private static func jsonFields(_ line: String, fail: (String) -> JobError) throws -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw fail("not a JSON object")
        }
        var fields: [String: String] = [:]
        for key in object.keys.sorted() {
            let value = object[key]!
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

/// Every problem found in a manifest, in line order; nothing runs while there is one.
public struct ManifestErrors: Error, Equatable, CustomStringConvertible {
    /// `JobError.manifest` values, one a problem.
    public var problems: [JobError]

    public init(problems: [JobError]) {
        self.problems = problems
    }

    /// One problem a line.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

extension JobError {
    /// The manifest line of a `.manifest` error (0 for the others).
    var line: Int {
        if case .manifest(_, let line, _) = self { return line }
        return 0
    }
}
