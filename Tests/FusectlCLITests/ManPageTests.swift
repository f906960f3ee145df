import Foundation
import TestSupport
import Testing

/// docs/fusectl.1 is generated from the same definitions as `--help` (scripts/make_manpage.sh); this
/// fails when a subcommand or option is missing from the committed page, i.e. when it is stale.
@Suite struct ManPageTests {
    @Test func theManPageListsEveryCommandAndOption() throws {
        let file = fixturesURL().deletingLastPathComponent().appendingPathComponent("docs/fusectl.1")
        let page = try String(contentsOf: file, encoding: .utf8)
        let items = page.split(separator: "\n").filter { $0.hasPrefix(".It ") }
        let dump = try Fusectl.run(["--experimental-dump-help"])
        try #require(dump.status == 0, "\(dump.stderr)")
        let root = try #require(try JSONSerialization.jsonObject(with: dump.stdout) as? [String: Any])
        var commands = [try #require(root["command"] as? [String: Any])]
        var checked = 0
        while let command = commands.popLast() {
            let name = try #require(command["commandName"] as? String)
            if command["shouldDisplay"] as? Bool == false { continue }
            #expect(name == "fusectl" || items.contains(".It Em \(name)"), "docs/fusectl.1 lacks the command '\(name)'")
            for argument in command["arguments"] as? [[String: Any]] ?? [] where argument["shouldDisplay"] as? Bool != false {
                for entry in argument["names"] as? [[String: Any]] ?? [] where entry["kind"] as? String == "long" {
                    let option = try #require(entry["name"] as? String)
                    let listed = items.contains { item in
                        item.split(separator: " ").contains { $0 == "-\(option)" }
                    }
                    #expect(listed, "docs/fusectl.1 lacks --\(option) of '\(name)': run scripts/make_manpage.sh")
                    checked += 1
                }
            }
            commands += command["subcommands"] as? [[String: Any]] ?? []
        }
        #expect(checked > 40)
    }
}
