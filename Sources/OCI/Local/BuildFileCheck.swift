import Foundation

/// Build files of a directory (Dockerfiles, compose files, build scripts) read for build arguments named like
/// secrets: an `ARG` (with or without a default), a compose `args:` entry, a `--build-arg`. A build argument's
/// value stays in the image history for anyone who pulls the image; BuildKit secret mounts do not.
///
/// Secret *values* in these files are found by the scan itself, which reads them as files of the layer; this
/// only adds the names, which the rules cannot judge without a value.
public enum BuildFileCheck {
    /// One build argument named like a secret.
    public struct Note: Sendable, Equatable {
        /// Absolute within the directory (`/docker/Dockerfile`).
        public var path: String
        /// 1-based.
        public var line: Int
        public var key: String
        public var message: String
    }

    /// Build files larger than this are not read for notes (the scan still reads them for secrets).
    public static let maxFileBytes: Int64 = 1 << 20

    /// Whether a relative path names a file this check reads.
    static func isBuildFile(_ path: String) -> Bool {
        let name = (path.split(separator: "/").last.map(String.init) ?? path).lowercased()
        return isDockerfile(name) || isCompose(name) || name.hasSuffix(".sh") || name == "makefile" || name.hasSuffix(".mk")
            || name.hasSuffix(".yml") || name.hasSuffix(".yaml")
    }

    static func isDockerfile(_ name: String) -> Bool {
        name == "dockerfile" || name == "containerfile" || name.hasPrefix("dockerfile.") || name.hasSuffix(".dockerfile")
            || name.hasPrefix("containerfile.")
    }

    static func isCompose(_ name: String) -> Bool {
        (name.hasPrefix("docker-compose") || name.hasPrefix("compose")) && (name.hasSuffix(".yml") || name.hasSuffix(".yaml"))
    }

    /// Notes for every build file of a directory source.
    public static func notes(_ source: DirectorySource) throws -> [Note] {
        var out: [Note] = []
        for path in try source.buildFiles() {
            let tree = DirectoryTree(root: source.root)
            // Through the tree's checks: a build file reached by a link out of the directory is not read.
            guard let slice = try? tree.slice(path), slice.length <= maxFileBytes, let data = try? slice.readAll() else { continue }
            out += notes(String(decoding: data, as: UTF8.self), path: "/" + path)
        }
        return out
    }

    /// Notes for one file's text; `path` says which kind of build file it is.
    public static func notes(_ text: String, path: String) -> [Note] {
        let name = (path.split(separator: "/").last.map(String.init) ?? path).lowercased()
        var out: [Note] = []
        let lines = text.components(separatedBy: "\n")
        if isDockerfile(name) {
            var i = 0
            while i < lines.count {
                // A `\` at the end of a line continues the instruction.
                let first = i
                var instruction = lines[i]
                while instruction.hasSuffix("\\"), i + 1 < lines.count {
                    instruction = String(instruction.dropLast()) + " " + lines[i + 1]
                    i += 1
                }
                i += 1
                let words = instruction.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard let verb = words.first?.uppercased(), verb == "ARG" else { continue }
                for word in words.dropFirst() {
                    let key = String(word.prefix { $0 != "=" })
                    guard isSecretName(key) else { continue }
                    out.append(Note(path: path, line: first + 1, key: key, message: """
                        ARG \(key): a build argument named like a secret is kept in the image history (docker history \
                        shows its value); mount it as a BuildKit secret instead: RUN --mount=type=secret,id=\(key.lowercased()) \
                        … with docker build --secret id=\(key.lowercased()),env=\(key)
                        """))
                }
            }
        }
        if isCompose(name) {
            var argsIndent: Int?
            for (n, line) in lines.enumerated() {
                let indent = line.prefix { $0 == " " }.count
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                if let a = argsIndent, indent > a {
                    var entry = trimmed
                    if entry.hasPrefix("- ") { entry = String(entry.dropFirst(2)).trimmingCharacters(in: .whitespaces) }
                    let key = String(entry.prefix { $0 != "=" && $0 != ":" }).trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
                    if isSecretName(key) {
                        out.append(Note(path: path, line: n + 1, key: key, message: """
                            build args \(key): a build argument named like a secret is kept in the image history; \
                            pass it as a build secret instead (secrets: under build:, and RUN --mount=type=secret in the Dockerfile)
                            """))
                    }
                    continue
                }
                argsIndent = trimmed == "args:" ? indent : nil
            }
        }
        // `--build-arg KEY[=value]` or `--build-arg=KEY…` in scripts, Makefiles, CI files and compose files.
        for (n, line) in lines.enumerated() {
            var rest = Substring(line)
            while let r = rest.range(of: "--build-arg") {
                rest = rest[r.upperBound...]
                let arg = rest.drop { $0 == " " || $0 == "=" || $0 == "\t" }
                let key = String(arg.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." })
                guard isSecretName(key) else { continue }
                out.append(Note(path: path, line: n + 1, key: key, message: """
                    --build-arg \(key): a build argument named like a secret is kept in the image history; \
                    pass it with --secret id=\(key.lowercased()),env=\(key) and RUN --mount=type=secret,id=\(key.lowercased()) instead
                    """))
            }
        }
        return out
    }

    /// Whether a variable's name says it holds a secret: a word such as TOKEN, SECRET, PASSWORD or an API/private
    /// KEY (not a KEY_ID or a PUBLIC or GPG key).
    public static func isSecretName(_ key: String) -> Bool {
        let upper = key.uppercased()
        guard !upper.isEmpty, upper.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }) else {
            return false
        }
        for part in ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "APIKEY", "CREDENTIAL", "PRIVATEKEY"] where upper.contains(part) {
            return true
        }
        let words = upper.split(whereSeparator: { $0 == "_" || $0 == "-" || $0 == "." }).map(String.init)
        if words.contains(where: { ["PASS", "PAT", "CREDS", "PWD"].contains($0) }) && !(words == ["PWD"]) { return true }
        for (i, w) in words.enumerated() where w == "KEY" {
            let before = i > 0 ? words[i - 1] : ""
            let after = i + 1 < words.count ? words[i + 1] : ""
            if ["PUBLIC", "GPG", "PGP"].contains(before) || ["ID", "FILE", "PATH", "NAME", "URL"].contains(after) { continue }
            return true
        }
        return false
    }
}
