import Foundation
import Fusion
import NpyIO

/// The record fusectl writes beside every output file, `FILE.fusectl.json`: what made the file
/// (``Provenance``) and what the file was when written (size, modification time, CRC-32), so that a
/// resumed run can tell its own complete, current outputs from stale, damaged or foreign ones without
/// recomputing them, and a person can ask what made a file (`fusectl inspect FILE`).
///
/// The record is written (atomically) just before its file is renamed into place, so a file of
/// fusectl's never exists without its record; a record whose file is missing or differs from it
/// (a run killed between the two renames, a file changed since) just means "recompute".
public struct OutputRecord: Codable, Equatable, Sendable {
    /// What the file was when fusectl wrote it.
    public struct File: Codable, Equatable, Sendable {
        /// `fused`, `attention`, `fused+attention` (one .npz) or `heatmap`.
        public var role: String
        public var bytes: Int
        /// Modification time, nanoseconds since the epoch (kept by the rename into place and by
        /// `cp -a`/`rsync -a`; a file whose time differs is checked by its CRC-32 instead).
        public var modifiedNanoseconds: Int64
        /// CRC-32 (zip polynomial) of the whole file, 8 hex digits.
        public var crc32: String
        /// The members of a .npz output; nil for a .npy or a PNG.
        public var members: [String]?

        enum CodingKeys: String, CodingKey {
            case role, bytes, crc32, members
            case modifiedNanoseconds = "modified_ns"
        }
    }

    /// Identifies the format, so that other JSON beside an output is never taken for a record.
    public var format = OutputRecord.formatName
    public var file: File
    public var made: Provenance

    public static let formatName = "fusectl output record 1"

    public init(file: File, made: Provenance) {
        self.file = file
        self.made = made
    }

    /// Where the record of the output `path` lives: `path` + `.fusectl.json`.
    public static func path(for output: String) -> String { output + ".fusectl.json" }

    /// The record beside `output`, or nil when there is none.
    ///
    /// - Throws: ``RecordError`` when a file is there but is not a record fusectl can read.
    public static func read(for output: String) throws -> OutputRecord? {
        let path = Self.path(for: output)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            let record = try JSONDecoder().decode(OutputRecord.self, from: data)
            guard record.format == formatName else { throw RecordError(path: path, reason: "format \"\(record.format)\"") }
            return record
        } catch let error as RecordError {
            throw error
        } catch {
            throw RecordError(path: path, reason: "not a record fusectl can read")
        }
    }

    /// Writes this record beside `output`, atomically but without fsync: the output's own commit, which
    /// follows, fsyncs their common folder. Losing a record to a crash is safe either way: the output
    /// then has an older record (which disagrees with it: recomputed) or none (refused until --force).
    /// - Throws: `NpyError` naming the record's path.
    public func write(for output: String) throws {
        let bytes = Array(storedText.utf8)
        try OutputFile.write(to: Self.path(for: output), durable: false) { try $0.write(bytes) }
    }

    /// The closure `OutputFile.commit(beforeRename:)` calls to write the record of `output` (as
    /// given) for the complete file it is about to rename into place.
    static func writer(for output: String, role: String, members: [String]? = nil,
                       made: Provenance) -> (WrittenFile) throws -> Void {
        { written in
            try OutputRecord(
                file: File(role: role, bytes: written.byteCount, modifiedNanoseconds: written.modificationNanoseconds,
                           crc32: hex8(written.crc32), members: members),
                made: made
            ).write(for: output)
        }
    }

    /// What made the file, for a person (`fusectl inspect`): a few lines, e.g.
    /// `made by fusectl 0.13.0, plain mode, float32, plan automatic, no attention maps`.
    public var summary: [String] {
        let made = self.made
        var lines = [
            "made by fusectl \(made.fusectl), \(made.mode) mode\(made.window.map { ", window \($0)" } ?? "")"
                + "\(made.oneSample ? ", one sample a file" : ""), "
                + "\(made.outputDType), plan \(made.plan), \(made.attention ? "with" : "no") attention maps",
            "weights \(made.weights.fingerprint) (read from \(made.weights.file)"
                + (made.weights.prefix.isEmpty ? ")" : ", prefix \"\(made.weights.prefix)\")"),
            "config \(made.config)",
        ]
        for input in made.inputs {
            lines.append("\(input.role) \(input.path) (\(input.bytes) bytes, modified_ns \(input.modifiedNanoseconds))")
        }
        lines.append("file: \(file.role), \(file.bytes) bytes, CRC-32 \(file.crc32)"
            + (file.members.map { ", members \($0.joined(separator: ", "))" } ?? ""))
        return lines
    }

    /// The record as the JSON text it is stored as (for `fusectl inspect`).
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension OutputRecord {
    /// How a recorded file is checked for completeness.
    public enum Layout: Sendable, Equatable {
        /// A .npy: its header must parse and announce exactly the data that follows.
        case npy
        /// A .npz: its directory must list these members (and the record must too).
        case archive([String])
        /// Anything else (a PNG): size, time and CRC-32 only.
        case opaque
    }

    /// What is at `path` against what this run would write there (`provenance`, a file of `role`
    /// laid out as `layout`): see ``OutputState``. Reads the record, `stat`s the file and checks its
    /// layout; reads the whole file for its CRC-32 only with `verify` or when its modification time
    /// differs from the record's.
    public static func state(of path: String, role: String, layout: Layout, against provenance: Provenance,
                             verify: Bool) -> OutputState {
        var record: OutputRecord?
        if let stored = readStored(for: path), stored.madeText.elementsEqual(provenance.jsonText.utf8) {
            record = OutputRecord(file: stored.file, made: provenance)  // the fast path: no JSON decoding
        } else {
            do {
                record = try OutputRecord.read(for: path)
            } catch {
                return .stale("its record is damaged")
            }
        }
        let stamp = FileStamp(path: path)
        guard let record else {
            guard let stamp, stamp.isRegular else { return .absent }
            return .unrecorded(path)
        }
        guard let stamp else { return .stale("missing") }
        if let reason = provenance.reasonToRecompute(recorded: record.made) { return .stale(reason) }
        var members: [String]?
        if case .archive(let names) = layout { members = names }
        if record.file.members != members || record.file.role != role { return .stale("made with other outputs") }
        if stamp.byteCount < record.file.bytes { return .stale("truncated") }
        if stamp.byteCount != record.file.bytes { return .stale("changed since it was written") }
        switch layout {
        case .archive(let names):
            guard let archive = try? NpzArchive(path: path) else { return .stale("damaged") }
            if let missing = names.first(where: { !archive.contains($0) }) {
                return .stale("incomplete (no member '\(missing)')")
            }
        case .npy:
            if (try? NpyFile.read(path: path)) == nil { return .stale("damaged") }
        case .opaque:
            break
        }
        if verify || stamp.modifiedNanoseconds != record.file.modifiedNanoseconds {
            guard let (_, crc) = try? fileChecksum(path: path), hex8(crc) == record.file.crc32 else {
                return .stale(verify ? "damaged (CRC-32 differs from its record)" : "changed since it was written")
            }
        }
        return .current
    }
}

/// A file beside an output named like a record that is not one fusectl can read.
public struct RecordError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// 8 lowercase hex digits.
func hex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
}

#if canImport(Glibc)
import Glibc
#endif

/// A file's size, modification time and identity (device and inode) as `stat` gives them.
public struct FileStamp: Equatable, Sendable {
    public var byteCount: Int
    public var modifiedNanoseconds: Int64
    public var device: UInt64
    public var inode: UInt64
    public var isRegular: Bool

    /// `path` stat'ed (links followed), or nil when it does not exist or is "-".
    public init?(path: String) {
        var info = stat()
        guard path != "-", stat(path, &info) == 0 else { return nil }
        byteCount = Int(info.st_size)
        modifiedNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        isRegular = (info.st_mode & S_IFMT) == S_IFREG
    }
}
