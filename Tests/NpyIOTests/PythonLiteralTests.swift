import Testing
@testable import NpyIO

@Suite struct PythonLiteralTests {
    func parse(_ text: String, utf8: Bool = false) throws -> PythonLiteral {
        try PythonLiteralParser.parse(Array(text.utf8), isUTF8: utf8)
    }

    @Test func tuplesFollowPythonsCommaRule() throws {
        #expect(try parse("()") == .tuple([]))
        #expect(try parse("(3)") == .int(3, text: "3"))
        #expect(try parse("(3,)") == .tuple([.int(3, text: "3")]))
        #expect(try parse("( 2 ,3 , )") == .tuple([.int(2, text: "2"), .int(3, text: "3")]))
        #expect(try parse("((1,), [2], {})") == .tuple([.tuple([.int(1, text: "1")]), .list([.int(2, text: "2")]), .dict([])]))
    }

    @Test func scalars() throws {
        #expect(try parse("True") == .bool(true))
        #expect(try parse("None") == .none)
        #expect(try parse("-12") == .int(-12, text: "-12"))
        #expect(try parse("1_000") == .int(1000, text: "1_000"))
        #expect(try parse("0") == .int(0, text: "0"))
        #expect(try parse("1e3") == .float("1e3"))
        #expect(try parse("9223372036854775808") == .int(nil, text: "9223372036854775808"))
    }

    @Test func stringsWithEscapesAndQuotes() throws {
        #expect(try parse(#"'it\'s'"#) == .string("it's"))
        #expect(try parse(#""say \"hi\"""#) == .string("say \"hi\""))
        #expect(try parse(#"'\x41\u00e9\n'"#) == .string("Aé\n"))
        #expect(try parse("u'<f4'") == .string("<f4"))
        // latin-1 (versions 1 and 2) vs UTF-8 (version 3)
        #expect(try PythonLiteralParser.parse([0x27, 0xE9, 0x27], isUTF8: false) == .string("é"))
        #expect(try parse("'é'", utf8: true) == .string("é"))
    }

    @Test func failuresCarryThePosition() {
        let cases: [(String, PythonLiteralParser.Failure)] = [
            ("{'a' 1}", .init(position: 5, message: "expected ':' after the dict key 'a', found '1}'")),
            ("'open", .init(position: 0, message: "string starting here is not closed before the end of the header")),
            ("012", .init(position: 0, message: "integer '012' has a leading zero, which Python refuses")),
            ("(1 2)", .init(position: 3, message: "expected ',' or ')' in the tuple, found '2)'")),
            ("'''x'''", .init(position: 0, message: "triple-quoted strings are not supported in .npy headers")),
            ("[" + String(repeating: "[", count: 70), .init(position: 64, message: "literals nested deeper than 64 levels")),
            ("", .init(position: 0, message: "expected a value, found the end of the header")),
        ]
        for (text, failure) in cases {
            #expect(throws: failure, "\(text)") { try parse(text) }
        }
    }
}
