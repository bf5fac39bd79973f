import Foundation
import Testing
import TestSupport
@testable import Forensics

/// The msgpack reader on well-formed values of every kind and on bytes made to hurt it.
@Suite struct MsgPackReaderTests {
    static let values: [(Pack, MsgPackValue)] = [
        (.uint(0), .uint(0)), (.uint(127), .uint(127)), (.uint(200), .uint(200)), (.uint(65_000), .uint(65_000)),
        (.uint(4_000_000_000), .uint(4_000_000_000)), (.uint(UInt64.max), .uint(UInt64.max)),
        (.int(-1), .int(-1)), (.int(-100), .int(-100)), (.int(-30_000), .int(-30_000)), (.int(-2_000_000_000), .int(-2_000_000_000)),
        (.int(Int64.min), .int(Int64.min)), (.str(""), .string("")), (.str("https://api.fly.io/v1"), .string("https://api.fly.io/v1")),
        (.str(String(repeating: "x", count: 300)), .string(String(repeating: "x", count: 300))),
        (.bin([1, 2, 3]), .binary([1, 2, 3])), (.bin(Array(repeating: 7, count: 70_000 / 100)), .binary(Array(repeating: 7, count: 700))),
        (.bool(true), .bool(true)), (.null, .null),
        (.arr([.uint(1), .arr([.str("a")])]), .array([.uint(1), .array([.string("a")])])),
        (.arr(Array(repeating: .uint(5), count: 20)), .array(Array(repeating: .uint(5), count: 20))),
        (.map([(.uint(77), .uint(31))]), .map([MsgPackPair(key: .uint(77), value: .uint(31))])),
    ]

    @Test(arguments: 0..<values.count)
    func readsWhatTheEncoderWrote(index: Int) throws {
        let (pack, expected) = Self.values[index]
        var r = MsgPackReader(pack.bytes)
        #expect(try r.read() == expected)
        #expect(r.isAtEnd)
    }

    @Test func readsFloatsAndExtensions() throws {
        var r = MsgPackReader([0xcb] + withUnsafeBytes(of: (1.5 as Double).bitPattern.bigEndian, Array.init) + [0xd4, 0x05, 0xAA])
        #expect(try r.read() == .float(1.5))
        #expect(try r.read() == .ext(type: 5, data: [0xAA]))
    }

    /// Each length field claims far more than is there: the reader says truncated without allocating the claim.
    static let hugeLengths: [[UInt8]] = [
        [0xdd, 0xff, 0xff, 0xff, 0xff, 0x00],  // array32 of 4 billion
        [0xdf, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],  // map32
        [0xdb, 0xff, 0xff, 0xff, 0xff, 0x41],  // str32
        [0xc6, 0xff, 0xff, 0xff, 0xff, 0x41],  // bin32
        [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 0x41],  // ext32
        [0xdc, 0xff, 0xff],  // array16 with nothing after it
        [0x9f, 0x00],  // fixarray of 15 with one element
        [0x8f, 0x00, 0x00, 0x00],  // fixmap of 15 with too few bytes for its pairs
        [0xcf, 0x01, 0x02],  // uint64 cut short
        [0xd9],  // str8 without its length
    ]

    @Test(arguments: hugeLengths)
    func refusesLengthsLongerThanTheBytes(bytes: [UInt8]) {
        var r = MsgPackReader(bytes)
        #expect(throws: ForensicsError.truncated(offset: 0)) { try r.read() }
        var header = MsgPackReader(bytes)
        if bytes[0] == 0xdd || bytes[0] == 0xdc || bytes[0] == 0x9f {
            #expect(throws: ForensicsError.truncated(offset: 0)) { try header.readArrayHeader() }
        }
    }

    @Test func refusesDeepNesting() {
        // 100 000 nested one-element arrays: a recursive reader without a bound would overflow the stack.
        var r = MsgPackReader(Array(repeating: 0x91, count: 100_000) + [0x00])
        #expect(throws: ForensicsError.tooDeep(offset: MsgPackReader.maxDepth)) { try r.read() }
        var maps = MsgPackReader(Array(repeating: [0x81, 0x00], count: 50_000).flatMap { $0 } + [0x00])
        #expect(throws: ForensicsError.tooDeep(offset: 2 * MsgPackReader.maxDepth)) { try maps.read() }
        var fine = MsgPackReader(Array(repeating: 0x91, count: MsgPackReader.maxDepth) + [0x00])
        #expect((try? fine.read()) != nil)
    }

    @Test func boundsTheNumberOfValues() {
        // An array32 of 200 000 nils is honest about its length but more than a token ever holds.
        var r = MsgPackReader([0xdd, 0x00, 0x03, 0x0d, 0x40] + Array(repeating: 0xc0, count: 200_000))
        #expect(throws: ForensicsError.tooManyValues(offset: 5 + MsgPackReader.maxValues - 1)) { try r.read() }
    }

    @Test func namesTheByteMsgPackNeverUses() {
        var r = MsgPackReader([0x92, 0x01, 0xc1])
        #expect(throws: ForensicsError.invalidByte(0xc1, offset: 2)) { try r.read() }
    }

    @Test func arrayHeaderLeavesOtherValuesUnread() throws {
        var r = MsgPackReader([0xa1, 0x41])
        #expect(throws: ForensicsError.unexpected(expected: "an array", offset: 0)) { try r.readArrayHeader() }
        #expect(try r.read() == .string("A"))
    }

    @Test func invalidUTF8InAStringIsKeptRepaired() throws {
        var r = MsgPackReader([0xa2, 0xff, 0x41])
        #expect(try r.read() == .string("\u{FFFD}A"))
    }

    /// Random bytes never trap; the reader either reads a value or names where it stopped.
    @Test func randomBytesNeverTrap() {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let bytes = (0..<Int.random(in: 0..<64, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            var r = MsgPackReader(bytes)
            _ = try? r.read()
            #expect(r.offset <= bytes.count)
        }
    }
}
