import Foundation
import ArgumentParser
import FusionJobs
#if canImport(Glibc)
import Glibc
#endif

/// Writes one line to standard error.
func printError(_ message: String) {
    var line = message
    line.append("\n")
    _ = line.withCString { fputs($0, stderr) }
}

/// Reports `error` as `fusectl <command>: error: <description>` and returns the exit code to throw.
func failure(_ command: String, _ error: any Error, exitCode: Int32 = 1) -> ExitCode {
    printError("fusectl \(command): error: \(error)")
    return ExitCode(exitCode)
}

/// A number for a person: four significant digits.
func formatValue(_ value: Double) -> String {
    String(format: "%.4g", value)
}

/// `FileCollisions.check` as a usage error (status 64) of the command being validated.
func checkNoOutputIsAnInput(outputs: [RunFile], inputs: [RunFile]) throws {
    do {
        try FileCollisions.check(outputs: outputs, inputs: inputs)
    } catch let error as JobError {
        throw ValidationError("\(error)")
    }
}
