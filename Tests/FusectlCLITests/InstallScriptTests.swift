import Foundation
import TestSupport
import Testing

/// scripts/install.sh into a scratch prefix with the built binary: every file where the README says,
/// the installed binary runs, the man page is docs/fusectl.1 and the completions are the binary's own.
@Suite struct InstallScriptTests {
    @Test func installsTheBinaryManPageAndCompletionsIntoAPrefix() throws {
        let prefix = try TemporaryFolder()
        defer { prefix.remove() }
        let binary = Fusectl.binaryURL.path
        let outcome = ClusterScripts.run(["bash", ClusterScripts.path("scripts/install.sh"), "--prefix", prefix.path("p"),
                                          "--binary", binary])
        #expect(outcome.status == 0, "\(outcome.output)")
        let files = ["bin/fusectl", "share/man/man1/fusectl.1", "share/bash-completion/completions/fusectl",
                     "share/zsh/site-functions/_fusectl", "share/fish/vendor_completions.d/fusectl.fish"]
        for file in files {
            #expect(outcome.output.contains("installed \(prefix.path("p"))/\(file)\n"), "\(outcome.output)")
            #expect(FileManager.default.fileExists(atPath: prefix.path("p/\(file)")), "\(file) missing")
        }
        let version = ClusterScripts.run([prefix.path("p/bin/fusectl"), "--version"])
        #expect(version.status == 0 && version.output.hasPrefix("fusectl "), "\(version.output)")
        #expect(FileManager.default.contents(atPath: prefix.path("p/share/man/man1/fusectl.1"))
                == FileManager.default.contents(atPath: ClusterScripts.path("docs/fusectl.1")))
        let bash = ClusterScripts.run([binary, "--generate-completion-script", "bash"])
        #expect(FileManager.default.contents(atPath: prefix.path("p/share/bash-completion/completions/fusectl"))
                == Data(bash.output.utf8))
        #expect(bash.output.contains("--one-sample"))
        let unknown = ClusterScripts.run(["bash", ClusterScripts.path("scripts/install.sh"), "--prefx", "x"])
        #expect(unknown.status == 2 && unknown.output == "install.sh: unknown argument '--prefx' (see --help)\n")
    }
}
