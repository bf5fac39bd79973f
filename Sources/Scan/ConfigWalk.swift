import Foundation

/// The string values of an image config that no specific source covers, with their JSON paths.
enum ConfigWalk {
    /// Paths scanned elsewhere (env, labels, cmd, entrypoint, healthcheck, history) or not text.
    static let covered: Set<String> = [
        "config.Env", "config.Labels", "config.Cmd", "config.Entrypoint", "config.Healthcheck",
        "container_config.Env", "container_config.Labels", "container_config.Cmd", "container_config.Entrypoint",
        "container_config.Healthcheck", "history", "rootfs",
    ]

    static func otherStrings(_ raw: Data) -> [(String, String)] {
        guard let root = try? JSONSerialization.jsonObject(with: raw) else { return [] }
        var out: [(String, String)] = []
        walk(root, path: "", into: &out)
        return out
    }

    private static func walk(_ value: Any, path: String, into out: inout [(String, String)]) {
        if covered.contains(path) { return }
        switch value {
        case let s as String:
            out.append((path, s))
        case let d as [String: Any]:
            for k in d.keys.sorted() { walk(d[k]!, path: path.isEmpty ? k : "\(path).\(k)", into: &out) }
        case let a as [Any]:
            for (i, v) in a.enumerated() { walk(v, path: "\(path)[\(i)]", into: &out) }
        default:
            break
        }
    }
}
