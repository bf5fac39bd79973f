/// Decides, chunk by chunk, whether bytes are plain text that is safe to write to a terminal: strictly valid UTF-8
/// (no overlong form, no surrogate, nothing past U+10FFFF) with no control character but tab, newline and carriage return, and no C1 control (U+0080 to U+009F,
/// which some terminals obey as escape sequences). A file in an image is attacker-controlled: `cat` to a
/// terminal writes only what passes.
///
/// Used by one thread at a time; it keeps the state of a character split across chunks.
public final class PlainTextCheck {
    /// Continuation bytes still expected.
    private var pending = 0
    /// The lead byte of the character being read, while its first continuation byte is awaited.
    private var lead: UInt8 = 0

    /// A check at the start of a stream.
    public init() {}

    /// Whether `chunk`, following the chunks already seen, is still plain text.
    public func accepts(_ chunk: UnsafeRawBufferPointer) -> Bool {
        for b in chunk {
            if pending > 0 {
                guard b & 0xC0 == 0x80 else { return false }
                // The second byte's range after some leads (RFC 3629): E0 and F0 would make overlong forms, ED a
                // surrogate (U+D800...U+DFFF), F4 a scalar past U+10FFFF; C2 80...C2 9F is a C1 control.
                switch lead {
                case 0xC2: if b <= 0x9F { return false }
                case 0xE0: if b < 0xA0 { return false }
                case 0xED: if b > 0x9F { return false }
                case 0xF0: if b < 0x90 { return false }
                case 0xF4: if b > 0x8F { return false }
                default: break
                }
                lead = 0
                pending -= 1
                continue
            }
            switch b {
            case 0x09, 0x0A, 0x0D: continue
            case 0x00...0x1F, 0x7F: return false
            case 0x20...0x7E: continue
            case 0xC2...0xDF: pending = 1
            case 0xE0...0xEF: pending = 2
            case 0xF0...0xF4: pending = 3
            default: return false
            }
            lead = b
        }
        return true
    }
}
