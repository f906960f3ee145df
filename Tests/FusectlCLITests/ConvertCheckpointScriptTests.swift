import Foundation
import Testing

/// scripts/convert_checkpoint.py as a user without torch meets it, and its torch-free name matching
/// (scripts/reference/state_dict_names.py: optimizer state never a --key candidate, renames, one error
/// listing every problem) through its unit tests. Needs `python3` with numpy (scripts/setup.sh).
@Suite struct ConvertCheckpointScriptTests {
    @Test func theNameMatchingUnitTestsPass() {
        let outcome = ClusterScripts.run(
            ["python3", "-m", "unittest", "discover", "-s", ClusterScripts.path("scripts/reference"),
             "-p", "test_state_dict_names.py"])
        #expect(outcome.status == 0, "\(outcome.output)")
        #expect(outcome.output.contains("Ran 6 tests"), "\(outcome.output)")
    }

    /// Without torch the converter installs nothing: it names what to install and exits 1.
    @Test(.enabled(if: ClusterScripts.run(["python3", "-c", "import torch"]).status != 0, "torch is importable here"))
    func withoutTorchItSaysWhatToInstallAndInstallsNothing() throws {
        let venv = ClusterScripts.path(".venv-torch")
        let venvExisted = FileManager.default.fileExists(atPath: venv)
        let python = ClusterScripts.run(["python3", "-c", "import sys; print(sys.executable)"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let outcome = ClusterScripts.run(
            ["python3", ClusterScripts.path("scripts/convert_checkpoint.py"), "agent.pt", "--out", "w.npz"])
        #expect(outcome.status == 1)
        let then = venvExisted
            ? "run this script with \(venv)/bin/python, which has it"
            : "install torch for this python (python3 -m pip install torch), or make the project's venv with scripts/setup_torch.sh and run this script with \(venv)/bin/python"
        #expect(outcome.output == "convert_checkpoint.py: error: torch is not importable by \(python); \(then)\n")
        #expect(FileManager.default.fileExists(atPath: venv) == venvExisted)
    }
}
