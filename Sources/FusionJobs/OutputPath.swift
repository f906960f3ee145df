#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Output destinations compared as the file system sees them, so that two spellings of one file
/// (`out/a.npy`, `./out/../out/a.npy`, a symbolic link to it) are recognised as the same file.
public enum OutputPath {
    /// The path `path` will be written at: "-" stays "-"; an existing path is resolved with
    /// `realpath` (symbolic links and `..` included); otherwise its folder is resolved and the last
    /// component appended; a folder that does not exist yet is made absolute against the current
    /// folder and normalised lexically.
    public static func resolved(_ path: String) -> String {
        if path == "-" { return path }
        if let real = realPath(path) { return real }
        let (folder, name) = split(path)
        if let realFolder = realPath(folder.isEmpty ? "." : folder) {
            return realFolder == "/" ? "/" + name : realFolder + "/" + name
        }
        return absolute(path)
    }

    /// Whether `path` names an .npz archive (by its extension, case-insensitively).
    public static func isArchive(_ path: String) -> Bool {
        path != "-" && path.lowercased().hasSuffix(".npz")
    }

    private static func realPath(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    private static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    /// `path` made absolute against the current folder (resolved once per process) and normalised
    /// lexically (`.` and `..` removed); symbolic links are kept.
    public static func absolute(_ path: String) -> String {
        if path == "-" { return path }
        return normalised(path.hasPrefix("/") ? path : currentFolder + "/" + path)
    }

    private static let currentFolder = realPath(".") ?? "."

    private static func normalised(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
