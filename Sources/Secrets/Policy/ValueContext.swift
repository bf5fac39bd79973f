/// What the line before a generic finding's value says of the value, beyond the value itself: reasons the value is
/// code or a published badge link rather than a credential, which the value alone does not show.
enum ValueContext {
    /// Whether the value given on `line` (the text of its line before it) is not a credential: it repeats the name
    /// it is given (see `repeatsName`) or is a query parameter of an image's URL (see `isImageQuery`).
    static func rulesOut(_ value: [UInt8], line: ArraySlice<UInt8>) -> Bool {
        repeatsName(value, line: line) || isImageQuery(line)
    }

    /// Whether `value` holds the name it is given (the identifier that ends `line`, five characters or more), or
    /// starts with the same six: an alias or member access (`RegEnumKey = win32api.RegEnumKey`, `x = self._lib.x`)
    /// or one more name of the same family (`typedef struct NameStr Name;`, a list of `AuthDBDUser…` directives). A
    /// drawn token spells a given five characters about never.
    static func repeatsName(_ value: [UInt8], line: ArraySlice<UInt8>) -> Bool {
        var end = line.endIndex
        while end > line.startIndex && !isNameByte(line[end - 1]) { end -= 1 }
        var start = end
        while start > line.startIndex && isNameByte(line[start - 1]) { start -= 1 }
        let name = Array(line[start..<end])
        guard name.count >= 5, name.contains(where: isLetter) else { return false }
        var common = 0
        while common < min(name.count, value.count) && name[common] == value[common] { common += 1 }
        if common >= 6 { return true }
        guard value.count >= name.count else { return false }
        for i in 0...(value.count - name.count) where value[i] == name[0] && value[i..<(i + name.count)].elementsEqual(name) {
            return true
        }
        return false
    }

    /// Whether the value standing at the end of `line` is a query parameter of an image's URL
    /// (`https://…/badge.svg?style=svg&circle-token=…`): a build-status badge, whose token the CI service scopes to
    /// reading a status so that it can be published in a README.
    static func isImageQuery(_ line: ArraySlice<UInt8>) -> Bool {
        // The URL the value stands in: from the last blank, quote or bracket before it.
        let url = line.reversed().prefix { !(0x20 == $0 || 0x09 == $0 || 0x22 == $0 || 0x27 == $0 || 0x28 == $0 || 0x3C == $0) }.reversed()
        let text = String(decoding: Array(url), as: UTF8.self).lowercased()
        guard text.contains("://"), let query = text.firstIndex(of: "?") else { return false }
        let path = text[..<query]
        return [".svg", ".png", ".gif", ".jpg", ".jpeg", ".webp"].contains { path.hasSuffix($0) }
    }

    static func isNameByte(_ b: UInt8) -> Bool { isLetter(b) || (b >= 0x30 && b <= 0x39) || b == 0x5F }
    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
}
