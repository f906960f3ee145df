import Foundation
import Testing

/// Every repository path that docs/*.md names in backquotes (`scripts/...`, `fixtures/...`, `docs/...`,
/// `Sources/...`, `examples/...`) exists: a page that points at a file the repository no longer has (as
/// docs/model.md once pointed at scripts/reference.py) fails here.
@Suite struct DocsPathTests {
    @Test func everyPathTheDocsNameExists() throws {
        let docs = ClusterScripts.repository.appendingPathComponent("docs")
        let pages = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }
        #expect(!pages.isEmpty)
        let pattern = try NSRegularExpression(pattern: "`((?:scripts|fixtures|docs|Sources|examples)/[A-Za-z0-9_./+-]*[A-Za-z0-9_/])`")
        var checked = 0
        for page in pages {
            let text = try String(contentsOf: docs.appendingPathComponent(page), encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let path = String(text[Range(match.range(at: 1), in: text)!])
                if path.contains("*") { continue }
                checked += 1
                #expect(FileManager.default.fileExists(atPath: ClusterScripts.path(path)), "docs/\(page) names \(path), which does not exist")
            }
        }
        #expect(checked > 5)
    }
}
