import Reports
/// Reads build-argument assignments out of a history `created_by` line.
///
/// Classic builder: `|2 API_KEY=abc HTTP_PROXY=x /bin/sh -c make`; BuildKit: `RUN |2 API_KEY=abc … # buildkit`
/// and `ARG API_KEY=abc [B=c]`; `ENV K=v` and `LABEL k=v` are read the same way. Values are joined raw by the
/// builders, so a value with spaces is ambiguous: in `|N` lists each value runs to the next space (the command
/// follows), in ARG/ENV/LABEL lines to the next `KEY=`.
public enum BuildArgs {
    public struct Assignment: Equatable, Sendable {
        public var key: String
        public var value: String
        /// UTF-8 byte range of `key=value` in the line.
        public var range: Range<Int>
    }

    public static func parse(_ line: String) -> [Assignment] {
        let bytes = Array(line.utf8)
        var i = 0
        func skip(_ prefix: String) -> Bool {
            let p = Array(prefix.utf8)
            if bytes.count - i >= p.count, Array(bytes[i..<(i + p.count)]) == p { i += p.count; return true }
            return false
        }
        func token() -> Range<Int> {
            while i < bytes.count, bytes[i] == 0x20 { i += 1 }
            let s = i
            while i < bytes.count, bytes[i] != 0x20 { i += 1 }
            return s..<i
        }
        func assignment(_ r: Range<Int>) -> Assignment? {
            guard let eq = bytes[r].firstIndex(of: UInt8(ascii: "=")), eq > r.lowerBound else { return nil }
            let key = String(decoding: bytes[r.lowerBound..<eq], as: UTF8.self)
            guard key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else { return nil }
            return Assignment(key: key, value: String(decoding: bytes[(eq + 1)..<r.upperBound], as: UTF8.self), range: r)
        }

        _ = skip("RUN ")
        if skip("|") {
            let n = token()
            guard let count = Int(String(decoding: bytes[(n.lowerBound)..<n.upperBound], as: UTF8.self)) else { return [] }
            var result: [Assignment] = []
            for _ in 0..<count {
                let r = token()
                guard let a = assignment(r) else { break }
                result.append(a)
            }
            return result
        }
        i = 0
        // `/bin/sh -c #(nop)  ARG K=v` (classic) or `ARG K=v` (BuildKit); likewise ENV and LABEL. Here a
        // value runs until the next `KEY=` token, so values with spaces stay whole.
        if skip("/bin/sh -c #(nop) ") { while i < bytes.count, bytes[i] == 0x20 { i += 1 } }
        guard skip("ARG ") || skip("ENV ") || skip("LABEL ") else { return [] }
        var result: [Assignment] = []
        while i < bytes.count {
            let r = token()
            if r.isEmpty { break }
            if let a = assignment(r) {
                result.append(a)
            } else if var last = result.popLast() {
                last.range = last.range.lowerBound..<r.upperBound
                last.value = String(decoding: bytes[(last.range.lowerBound + last.key.utf8.count + 1)..<r.upperBound], as: UTF8.self)
                result.append(last)
            }
        }
        return result
    }
}
