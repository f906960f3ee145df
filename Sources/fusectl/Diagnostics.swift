import Foundation
import ArgumentParser
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
