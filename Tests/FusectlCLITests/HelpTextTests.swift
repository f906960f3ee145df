import Foundation
import Testing

/// `--version`, `help` with a wrong name, and code examples in `--help` that stay pasteable.
@Suite struct HelpTextTests {
    static let subcommands = ["fuse", "stream", "init", "inspect", "compare", "heatmap"]

    @Test func versionIsPrinted() throws {
        let outcome = try Fusectl.run(["--version"])
        #expect(outcome.status == 0)
        #expect(outcome.stdoutText.range(of: #"^fusectl \d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil,
                "\(outcome.stdoutText)")
    }

    @Test(arguments: [["help", "NOSUCH"], ["help", "fuse", "NOSUCH"]])
    func helpForAnUnknownCommandIsAUsageError(_ arguments: [String]) throws {
        let outcome = try Fusectl.run(arguments)
        #expect(outcome.status == 64)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.hasPrefix("Error: unknown subcommand 'NOSUCH'"), "\(outcome.stderr)")
        #expect(try Fusectl.run(Array(arguments.dropLast())).status == 0)
    }

    /// The overview (abstract and discussion) of `help NAME` at a given terminal width.
    private func overview(_ name: String, columns: Int) throws -> [String] {
        let arguments = name == "fusectl" ? ["help"] : ["help", name]
        let outcome = try Fusectl.run(arguments, environment: ["COLUMNS": String(columns)])
        try #require(outcome.status == 0, "\(outcome.stderr)")
        let text = outcome.stdoutText
        let end = try #require(text.range(of: "\nUSAGE:"))
        return text[..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Every indented line of a discussion (examples, shape tables, the Python loop) is printed as it
    /// is written at 80 columns: the parser re-wraps only what does not fit, so no code line is broken.
    @Test(arguments: HelpTextTests.subcommands + ["fusectl"])
    func codeLinesAreNotRewrappedAt80Columns(_ name: String) throws {
        let wide = try overview(name, columns: 1000)
        let narrow = try overview(name, columns: 80)
        let code = wide.filter { $0.hasPrefix("  ") }
        for line in code {
            #expect(line.count < 80, "'\(line)' is \(line.count) columns")
            #expect(narrow.contains(line), "'\(line)' is re-wrapped at 80 columns")
        }
        if name != "fusectl" { #expect(!code.isEmpty, "\(name) --help has no example") }
    }

    @Test func theStreamLoopIsWholePython() throws {
        let narrow = try overview("stream", columns: 80)
        let loop = [
            #"  p = subprocess.Popen("#,
            #"      ["fusectl", "stream", "--weights", "w.npz", "--text", "instr.npy"],"#,
            #"      stdin=subprocess.PIPE, stdout=subprocess.PIPE)"#,
            #"  reader = types.SimpleNamespace(read=p.stdout.read)"#,
            #"  b = io.BytesIO(); numpy.save(b, frame)"#,
            #"  p.stdin.write(b.getvalue()); p.stdin.flush()"#,
            #"  fused = numpy.lib.format.read_array(reader)"#,
        ]
        let start = try #require(narrow.firstIndex(of: loop[0]))
        #expect(Array(narrow[start..<min(narrow.count, start + loop.count)]) == loop)
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsAreGenerated(_ shell: String) throws {
        let outcome = try Fusectl.run(["--generate-completion-script", shell])
        #expect(outcome.status == 0)
        for name in HelpTextTests.subcommands {
            #expect(outcome.stdoutText.contains(name), "\(shell) completion lacks '\(name)'")
        }
        #expect(outcome.stdoutText.contains("tokens-per-frame"))
    }
}
