/// Makes text that came from an image safe to print on a terminal.
///
/// Everything in an image is attacker-controlled: file names, env and label keys, history lines, registry
/// error text. Printed raw, an escape sequence in any of them can clear the screen, set the clipboard
/// (OSC 52), move the cursor over earlier lines or forge a "No secrets found." verdict. `escape` turns every
/// C0 and C1 control character, DEL, and the Unicode format characters that reorder or hide text (bidi
/// embeddings, overrides and isolates, zero-width joiners) into a visible `\x1b` / `\u{202e}` form, so one
/// finding always prints as one line of what is really there.
public enum TerminalText {
    /// `s` with every control or text-reordering character written as a visible escape.
    public static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: needsEscape) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for scalar in s.unicodeScalars {
            guard needsEscape(scalar) || scalar == "\\" else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            default:
                let hex = String(scalar.value, radix: 16)
                out += scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
            }
        }
        return out
    }

    /// Whether a scalar must not reach a terminal as is. A backslash is escaped only when something else in
    /// the string is, so ordinary Windows-style paths print unchanged while an escaped form stays unambiguous.
    static func needsEscape(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x2064, 0x2066...0x2069, 0xFEFF: return true
        default: return false
        }
    }
}
