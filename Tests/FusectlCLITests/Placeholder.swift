import Testing
@Test func FusectlCLITests_builds() { #expect(Bool(true)) }
