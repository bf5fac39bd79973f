import Foundation

/// Words of a command we suggest for pasting into a POSIX shell. An image's paths and references are attacker
/// data: `$(…)`, backquotes, `;` or a newline in a path must reach `stowaway` as bytes, never run.
public enum ShellWord {
    /// `s` as one shell word: unchanged when it holds only characters no shell treats specially, otherwise in
    /// single quotes, each `'` written as `'\''`.
    public static func quote(_ s: String) -> String {
        if !s.isEmpty, s.unicodeScalars.allSatisfy(isPlain) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private static func isPlain(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "/", ".", "_", "-", ":", "@", "+", ",", "=": return true
        default: return false
        }
    }
}
