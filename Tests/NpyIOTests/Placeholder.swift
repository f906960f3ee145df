import Testing
@Test func NpyIOTests_builds() { #expect(Bool(true)) }
