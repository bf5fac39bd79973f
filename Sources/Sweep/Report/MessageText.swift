import Reports
import Scan

/// Makes text that came from outside (image paths, repository and app names, registry error text, redacted
/// previews) inert in the two places a sweep's report is read as markup rather than printed.
///
/// A Slack message reads `<!channel>`, `<!here>` and `<https://x|label>` as commands and links, and a newline
/// in an image path would forge a line of its own. A ticket made from `sweep report --format markdown` reads
/// `[text](url)` as a live link, `![](url)` as an image the viewer's browser fetches (a tracking pixel), raw
/// HTML, and a bare `https://` as an autolink. Control characters are written visibly first (as
/// `TerminalText` does), so each finding stays one line.
public enum MessageText {
    /// For Slack's `text`: controls visible, then `&`, `<` and `>` as the entities Slack documents.
    public static func slack(_ s: String) -> String {
        var out = ""
        for c in TerminalText.escape(s) {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(c)
            }
        }
        return out
    }

    /// For Markdown outside a code span (a table cell included): controls visible, then every ASCII punctuation
    /// character backslash-escaped (CommonMark allows that for all of them), so no `[`, `!`, `<`, `*`, `|`, or
    /// the `:` and `.` an autolink needs, is read as markup.
    public static func markdown(_ s: String) -> String {
        var out = ""
        for scalar in TerminalText.escape(s).unicodeScalars {
            if scalar.isASCII, scalar.properties.generalCategory.isPunctuationOrSymbol { out += "\\" }
            out.unicodeScalars.append(scalar)
        }
        return out
    }

    /// For Markdown inside a single-backtick code span in a table cell: controls visible, a backtick (which would
    /// close the span) as `'`, a pipe (which would end the cell, even in a span) escaped, and never empty (an
    /// empty span renders as two backticks).
    public static func markdownCode(_ s: String) -> String {
        let t = TerminalText.escape(s).replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "|", with: "\\|")
        return t.isEmpty ? " " : t
    }
}

extension Unicode.GeneralCategory {
    /// ASCII punctuation in CommonMark's sense is the P* and S* categories (`$+<=>^`|~` are symbols).
    var isPunctuationOrSymbol: Bool {
        switch self {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }
}
