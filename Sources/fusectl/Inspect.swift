import ArgumentParser
import Foundation
import Fusion
import FusionJobs
import NpyIO

/// `fusectl inspect FILE...`: what each array in .npy/.npz files holds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each array's name, dtype, shape, byte and memory order, size and value statistics.",
        discussion: """
            For a .npy file the array is named after the file; for a .npz archive every member is listed, \
            and for a .safetensors file every tensor (bfloat16 statistics are over its exact float32 values). \
            Numeric arrays also get min, max and mean over their finite values and the count of NaN and Inf. \
            Byte order is little, big or '-' (single-byte types); order is C or F (Fortran). The text of \
            one-element string arrays (a weights file's 'config' member) is printed below the table. A file \
            that fusectl wrote has a record beside it (FILE.fusectl.json): what made it (weights fingerprint, \
            configuration, inputs with size and time, mode, dtype, plan, version) is printed below the table \
            ('made' in --json).

            Examples:
              fusectl inspect weights.npz
              fusectl inspect --json images.npy | python3 -m json.tool
            """
    )

    @Argument(help: "The .npy, .npz or .safetensors files ('-' for standard input).")
    var files: [String]

    @Flag(help: "Print one JSON document (an array of objects, one per array) instead of a table.")
    var json = false

    @Flag(help: "Also check each file as weights of the model (as 'fuse' loads them, with --prefix, --rename and --config) and print what was used, renamed and left aside, or every mismatch in one error.")
    var weights = false

    @Option(help: ArgumentHelp("With --weights: the model's key prefix in the checkpoint (as 'fuse --prefix').", valueName: "prefix"))
    var prefix: String?

    @Option(name: .customLong("rename"), help: ArgumentHelp("With --weights: a rename rule OLD=NEW (as 'fuse --rename'); repeat for several.", valueName: "old=new"))
    var renames: [String] = []

    @Option(help: ArgumentHelp("With --weights: the configuration JSON file (as 'fuse --config').", valueName: "file"))
    var config: String?

    func validate() throws {
        if !weights && (prefix != nil || !renames.isEmpty || config != nil) {
            throw ValidationError("--prefix, --rename and --config check a weights file: add --weights.")
        }
        if weights && files.contains("-") {
            throw ValidationError("--weights reads each file twice; give the weights as a file, not '-'.")
        }
        for rule in renames where (try? WeightRename(parsing: rule)) == nil {
            throw ValidationError("--rename \(rule): expected OLD_PREFIX=NEW_PREFIX (e.g. img_proj.=vision_proj.proj.)")
        }
    }

    func run() throws {
        var rows: [InspectedArray] = []
        var records: [(file: String, record: OutputRecord)] = []
        for file in files {
            do {
                if file != "-", let record = try OutputRecord.read(for: file) { records.append((file, record)) }
                switch try openArrayFile(path: file) {
                case .npy(let array):
                    rows.append(try InspectedArray(file: file, name: nil, array: array))
                case .npz(let archive):
                    for name in archive.memberNames {
                        rows.append(try InspectedArray(file: file, name: name, array: try archive.array(named: name)))
                    }
                case .safetensors(let tensors):
                    for entry in tensors.entries {
                        var row = try InspectedArray(file: file, name: entry.name, array: try tensors.array(named: entry.name))
                        (row.dtype, row.bytes) = (entry.dtype.name, entry.dataOffsets.count)
                        rows.append(row)
                    }
                }
            } catch {
                throw failure("inspect", error)
            }
        }
        for index in rows.indices {
            rows[index].made = records.first { $0.file == rows[index].file }?.record.made
        }
        do {
            var text = json ? try InspectedArray.json(rows) : InspectedArray.table(rows)
            if !json {
                for (file, record) in records {
                    text += "\n\n\(file) (record \(OutputRecord.path(for: file))):\n"
                        + record.summary.map { "  " + $0 }.joined(separator: "\n")
                }
            }
            print(text)
        } catch {
            throw failure("inspect", error)
        }
        guard weights else { return }
        for file in files {
            do {
                let loaded = try loadWeightsFile(
                    path: file, prefix: prefix, renames: try renames.map { try WeightRename(parsing: $0) },
                    configPath: config, allowNonfinite: true)
                if json { printError(loaded.summary) } else { print(loaded.summary) }
            } catch {
                throw failure("inspect", error)
            }
        }
    }
}

/// One array's description, as `inspect` prints it.
struct InspectedArray: Encodable {
    var file: String
    var name: String?
    var dtype: String
    var shape: [Int]
    var order: String
    var byte_order: String
    var bytes: Int
    var min: Double?
    var max: Double?
    var mean: Double?
    var nan: Int?
    var inf: Int?
    /// The string of a one-element string array (a weights file's `config`).
    var text: String?
    /// What made the file, from its record (files fusectl wrote).
    var made: Provenance?

    init(file: String, name: String?, array: NpyArray) throws {
        self.file = file
        self.name = name
        dtype = array.dtype.numpyName
        shape = array.shape
        order = array.isFortranOrder ? "F" : "C"
        switch array.byteOrder {
        case .little: byte_order = "little"
        case .big: byte_order = "big"
        case .notApplicable: byte_order = "-"
        }
        if !array.dtype.isNumeric && array.count == 1 { text = try array.stringScalar() }
        bytes = array.byteCount
        if array.dtype.isNumeric && !array.dtype.isComplex {
            let statistics = try ArrayStatistics(of: array)
            (min, max, mean) = (statistics.minimum, statistics.maximum, statistics.mean)
            (nan, inf) = (statistics.nanCount, statistics.infinityCount)
        }
    }

    /// The rows as one JSON document.
    /// - Throws: `TextFileError` naming the array when a statistic is not finite (a float64 mean whose
    ///   sum overflows: JSON has no infinity), or when encoding fails otherwise; nothing is printed then.
    static func json(_ rows: [InspectedArray]) throws -> String {
        for row in rows {
            for (name, value) in [("min", row.min), ("max", row.max), ("mean", row.mean)] {
                if let value, !value.isFinite {
                    throw TextFileError(
                        path: row.name.map { "\(row.file):\($0)" } ?? row.file,
                        reason: "cannot be written as JSON: its \(name) is \(value) (the sum of its values overflows float64), which JSON cannot hold; the table (without --json) shows it")
                }
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return String(decoding: try encoder.encode(rows), as: UTF8.self)
        } catch {
            throw TextFileError(path: rows.first?.file ?? "-", reason: "cannot be written as JSON (\(error))")
        }
    }

    static func table(_ rows: [InspectedArray]) -> String {
        let header = ["array", "dtype", "shape", "byteorder", "order", "bytes", "min", "max", "mean", "nan", "inf"]
        let body = rows.map { row -> [String] in
            let label = row.name.map { "\(row.file):\($0)" } ?? row.file
            return [label, row.dtype, shapeText(row.shape), row.byte_order, row.order, String(row.bytes),
                    format(row.min), format(row.max), format(row.mean),
                    row.nan.map(String.init) ?? "-", row.inf.map(String.init) ?? "-"]
        }
        let widths = header.indices.map { column in
            ([header] + body).map { $0[column].count }.max() ?? 0
        }
        let table = ([header] + body).map { cells in
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        let texts = rows.compactMap { row in
            row.text.map { "\(row.name.map { "\(row.file):\($0)" } ?? row.file): \($0)" }
        }
        return (table + (texts.isEmpty ? [] : [""] + texts)).joined(separator: "\n")
    }

    private static func format(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.6g", value)
    }
}
