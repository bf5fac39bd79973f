import Foundation
import Reports

/// The string values of an image config that no specific source covers, with their JSON paths.
///
/// The config is walked as a stream of bytes, not parsed into objects: a config of many megabytes (a long
/// history, thousands of labels) costs its strings, not a tree many times its size. Hostile shapes are cut
/// off with an error, so the scan is marked incomplete rather than silently partial.
enum ConfigWalk {
    /// Paths scanned elsewhere (env, labels, cmd, entrypoint, healthcheck, history) or not text.
    static let covered: Set<String> = [
        "config.Env", "config.Labels", "config.Cmd", "config.Entrypoint", "config.Healthcheck",
        "container_config.Env", "container_config.Labels", "container_config.Cmd", "container_config.Entrypoint",
        "container_config.Healthcheck", "history", "rootfs",
    ]
    /// A config larger than this is not walked (real ones are kilobytes; the byte count is checked before
    /// anything is read).
    static let maxBytes = 64 << 20
    /// Deeper nesting is not walked (real configs nest four or five levels).
    static let maxDepth = 64
    /// Strings outside the covered paths walked at most.
    static let maxStrings = 100_000

    /// The strings found, and why the walk stopped early (then the scan is incomplete).
    struct Walk {
        var strings: [(String, String)] = []
        var error: String?
    }

    static func otherStrings(_ raw: Data) -> Walk {
        var out = Walk()
        guard raw.count <= maxBytes else {
            out.error = "\(raw.count) bytes of config JSON, more than the \(maxBytes) walked for other strings"
            return out
        }
        raw.withUnsafeBytes { bytes in
            var walker = Walker(bytes: bytes)
            _ = walker.value(path: "", depth: 0, skip: false, into: &out)
        }
        return out
    }

    /// A JSON reader that hands out the strings outside skipped paths. Malformed JSON ends the walk quietly:
    /// the config was already decoded as JSON to get this far, so only what it reads is at stake.
    private struct Walker {
        let bytes: UnsafeRawBufferPointer
        var i = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        private var current: UInt8? { i < bytes.count ? bytes[i] : nil }

        private mutating func skipSpace() {
            while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
        }

        /// Reads one value at `path`; false when the walk must stop.
        mutating func value(path: String, depth: Int, skip: Bool, into out: inout Walk) -> Bool {
            skipSpace()
            guard let c = current else { return false }
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard depth < ConfigWalk.maxDepth else {
                    out.error = "config JSON nests deeper than \(ConfigWalk.maxDepth) levels at \(path.prefix(200))"
                    return false
                }
                let isObject = c == UInt8(ascii: "{")
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                i += 1
                skipSpace()
                if current == close { i += 1; return true }
                var index = 0
                while true {
                    var child = path
                    if isObject {
                        skipSpace()
                        guard current == UInt8(ascii: "\""), let key = string(decode: !skip) else { return false }
                        skipSpace()
                        guard current == UInt8(ascii: ":") else { return false }
                        i += 1
                        if !skip { child = path.isEmpty ? key : "\(path).\(key)" }
                    } else if !skip {
                        child = "\(path)[\(index)]"
                    }
                    index += 1
                    let skipChild = skip || ConfigWalk.covered.contains(child)
                    guard value(path: child, depth: depth + 1, skip: skipChild, into: &out) else { return false }
                    skipSpace()
                    guard let next = current else { return false }
                    i += 1
                    if next == close { return true }
                    guard next == UInt8(ascii: ",") else { return false }
                }
            case UInt8(ascii: "\""):
                guard let s = string(decode: !skip) else { return false }
                if skip { return true }
                guard out.strings.count < ConfigWalk.maxStrings else {
                    out.error = "config JSON has more than \(ConfigWalk.maxStrings) strings outside env, labels and history"
                    return false
                }
                out.strings.append((path, s))
                return true
            default:
                // A number, true, false or null.
                while let d = current, d != UInt8(ascii: ","), d != UInt8(ascii: "}"), d != UInt8(ascii: "]"),
                      d != 0x20, d != 0x09, d != 0x0A, d != 0x0D {
                    i += 1
                }
                return true
            }
        }

        /// Reads the string literal at `i` (escapes undone when `decode`); nil when it does not end.
        private mutating func string(decode: Bool) -> String? {
            i += 1
            var out: [UInt8] = []
            var pendingHigh: UInt32?
            func append(_ scalar: UInt32) {
                guard let u = Unicode.Scalar(scalar) else { out += [0xEF, 0xBF, 0xBD]; return }
                out += Array(String(Character(u)).utf8)
            }
            while let c = current {
                if c == UInt8(ascii: "\"") {
                    i += 1
                    if let h = pendingHigh { append(h) }
                    return decode ? String(decoding: out, as: UTF8.self) : ""
                }
                guard c == UInt8(ascii: "\\") else {
                    if decode {
                        if let h = pendingHigh { append(h); pendingHigh = nil }
                        out.append(c)
                    }
                    i += 1
                    continue
                }
                guard i + 1 < bytes.count else { return nil }
                let e = bytes[i + 1]
                i += 2
                guard decode else {
                    if e == UInt8(ascii: "u") { i += 4 }
                    continue
                }
                if e == UInt8(ascii: "u") {
                    guard i + 4 <= bytes.count,
                          let v = UInt32(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + 4)]), as: UTF8.self), radix: 16)
                    else { return nil }
                    i += 4
                    if (0xD800..<0xDC00).contains(v) {
                        if let h = pendingHigh { append(h) }
                        pendingHigh = v
                        continue
                    }
                    if (0xDC00..<0xE000).contains(v), let h = pendingHigh {
                        append(0x10000 + ((h - 0xD800) << 10) + (v - 0xDC00))
                        pendingHigh = nil
                        continue
                    }
                    if let h = pendingHigh { append(h); pendingHigh = nil }
                    append(v)
                    continue
                }
                if let h = pendingHigh { append(h); pendingHigh = nil }
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                default: out.append(e)
                }
            }
            return nil
        }
    }
}
