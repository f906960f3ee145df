import Testing
@Test func FusionTests_builds() { #expect(Bool(true)) }
