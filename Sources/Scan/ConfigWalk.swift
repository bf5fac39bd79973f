import Foundation

/// The string values of an image config that no specific source covers, with their JSON paths.
enum ConfigWalk {
    /// Paths scanned elsewhere (env, labels, cmd, entrypoint, healthcheck, history) or not text.
    static let covered: Set<String> = [
        "config.Env", "config.Labels", "config.Cmd", "config.Entrypoint", "config.Healthcheck",
        "container_config.Env", "container_config.Labels", "container_config.Cmd", "container_config.Entrypoint",
        "container_config.Healthcheck", "history", "rootfs",
    ]
    /// A config larger than this is not walked (a real one is a few kilobytes; a hostile one would be parsed
    /// into objects many times its size): the scan says so in `errors`.
    static let maxBytes = 8 << 20
    /// Deeper nesting is not walked (real configs nest four or five levels).
    static let maxDepth = 64
    /// Strings walked at most.
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
        guard let root = try? JSONSerialization.jsonObject(with: raw) else { return out }
        walk(root, path: "", depth: 0, into: &out)
        return out
    }

    private static func walk(_ value: Any, path: String, depth: Int, into out: inout Walk) {
        if covered.contains(path) || out.error != nil { return }
        guard depth <= maxDepth else {
            out.error = "config JSON nests deeper than \(maxDepth) levels at \(path.prefix(200))"
            return
        }
        switch value {
        case let s as String:
            guard out.strings.count < maxStrings else {
                out.error = "config JSON has more than \(maxStrings) strings outside env, labels and history"
                return
            }
            out.strings.append((path, s))
        case let d as [String: Any]:
            for k in d.keys.sorted() { walk(d[k]!, path: path.isEmpty ? k : "\(path).\(k)", depth: depth + 1, into: &out) }
        case let a as [Any]:
            for (i, v) in a.enumerated() { walk(v, path: "\(path)[\(i)]", depth: depth + 1, into: &out) }
        default:
            break
        }
    }
}
