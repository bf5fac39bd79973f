#if canImport(Glibc)
import Core
import Glibc
#endif
import Foundation

/// The API socket of a local Docker or Podman engine, and its image save endpoint (`GET /images/{name}/get`,
/// a `docker save` tarball) read as a stream over plain blocking HTTP/1.0 on the unix socket.
///
/// HTTP/1.0 because then the engine (Go's net/http) sends the body unchunked and closes the connection at its
/// end: no chunk decoding, and a short body is caught by the tar reader as truncation.
public struct EngineSocket: Sendable {
    public enum Engine: String, Sendable {
        case docker, podman
    }

    public let engine: Engine
    /// The socket's path on this machine.
    public let path: String
    /// How long a read may wait for the next bytes (and a connect or write for room) before the engine is
    /// called stalled.
    public let timeout: Double

    /// The engine's status line and headers are small; anything longer is not an engine.
    static let maxHeaderBytes = 64 << 10
    /// An error answer's body is read this far for its message.
    static let maxErrorBody = 64 << 10

    public init(engine: Engine, path: String, timeout: Double) {
        self.engine = engine
        self.path = path
        self.timeout = timeout
    }

    /// Where the engine listens: `$DOCKER_HOST` (`unix://` only) or `/var/run/docker.sock` for Docker;
    /// `$CONTAINER_HOST`, then the rootless `$XDG_RUNTIME_DIR/podman/podman.sock` (for a user other than root)
    /// or `/run/podman/podman.sock` for Podman. Throws `OCIError.engine` for a non-unix host.
    public static func locate(_ engine: Engine, source: String, timeout: Double,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> EngineSocket {
        let variable = engine == .docker ? "DOCKER_HOST" : "CONTAINER_HOST"
        if let host = environment[variable], !host.isEmpty {
            guard host.hasPrefix("unix://"), host.count > "unix://".count else {
                throw OCIError.engine(source: source, reason: "\(variable)=\(clip(host, limit: 200)) is not a unix:// socket; only a local engine's socket can be read (docker save it, or scan the registry reference)")
            }
            return EngineSocket(engine: engine, path: String(host.dropFirst("unix://".count)), timeout: timeout)
        }
        if engine == .docker { return EngineSocket(engine: engine, path: "/var/run/docker.sock", timeout: timeout) }
        var candidates = ["/run/podman/podman.sock"]
        if getuid() != 0, let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            candidates.insert(runtime + "/podman/podman.sock", at: 0)
        }
        let found = candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
        return EngineSocket(engine: engine, path: found, timeout: timeout)
    }

    /// Asks the engine to save `image` and returns the body as a stream; throws `OCIError.engine` naming
    /// `source` when the socket cannot be reached, the engine has no such image or answers anything but 200.
    func openSave(_ image: String, source: String) throws -> EngineStream {
        let connection = try EngineStream(socket: self, source: source)
        do {
            try connection.send("GET /images/\(Self.escape(image))/get HTTP/1.0\r\nHost: \(engine.rawValue)\r\nUser-Agent: stowaway\r\n\r\n")
            try connection.readHead(image: image)
            return connection
        } catch {
            connection.close()
            throw error
        }
    }

    /// Percent-encodes a name for the path; `/` and `:` stay (the engine's route takes `{name:.*}`).
    static func escape(_ name: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~/:@")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
    }

    /// What to try when the socket cannot be reached.
    var hint: String {
        switch engine {
        case .docker: return "is Docker running? set DOCKER_HOST=unix://PATH for another socket"
        case .podman: return "start it with `systemctl --user start podman.socket`, or set CONTAINER_HOST=unix://PATH"
        }
    }
}

/// One connection to the engine: the answer's body, read forward as a `ByteSource`.
final class EngineStream: ByteSource, TarInput {
    private var fd: Int32
    private let socket: EngineSocket
    private let source: String
    /// Body bytes that arrived with the headers.
    private var pending: [UInt8] = []
    /// Body bytes handed out (or skipped) so far.
    private(set) var position: Int64 = 0
    /// The Content-Length when the engine sent one.
    private var bodyLength: Int64?

    var size: Int64? { nil }

    init(socket: EngineSocket, source: String) throws {
        self.socket = socket
        self.source = source
        fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OCIError.engine(source: source, reason: "socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: Int(socket.timeout), tv_usec: Int((socket.timeout - socket.timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socket.path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path), !bytes.contains(0) else {
            close()
            throw OCIError.engine(source: source, reason: "socket path \(clip(socket.path, limit: 200)) is too long for a unix socket")
        }
        // Safe: the guard above leaves room for the path and its terminating NUL inside `sun_path`, which
        // `sockaddr_un()` zeroed.
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        // Safe: `address` is a whole `sockaddr_un`, viewed as the `sockaddr` that `connect` takes, for this call only.
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            let code = errno
            // `close()` marks the descriptor closed, so `deinit` does not close it again.
            close()
            let path = clip(socket.path, limit: 200)
            switch code {
            case EACCES, EPERM:
                throw OCIError.engine(source: source, reason: "permission denied on the \(socket.engine.rawValue) socket \(path) (join the group that owns it, e.g. docker, or run as a user who may use it)")
            case ENOENT, ECONNREFUSED, ENOTDIR:
                throw OCIError.engine(source: source, reason: "no \(socket.engine.rawValue) engine at \(path): \(String(cString: strerror(code))) (\(socket.hint))")
            case EAGAIN, EINPROGRESS:
                throw OCIError.engine(source: source, reason: "the \(socket.engine.rawValue) engine at \(path) did not accept the connection within \(RegistryFailure.seconds(socket.timeout))")
            default:
                throw OCIError.engine(source: source, reason: "cannot connect to \(path): \(String(cString: strerror(code)))")
            }
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            // Safe: `done < bytes.count` keeps the range inside `bytes`.
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw OCIError.engine(source: source, reason: "sending the request: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    /// One `recv` into `buffer`; 0 at the end; throws on a stall (the receive timeout) or an error.
    private func receive(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                throw OCIError.engine(source: source, reason: "the \(socket.engine.rawValue) engine stalled: no data for \(RegistryFailure.seconds(socket.timeout)) at byte \(position) of the image (--timeout sets the bound)")
            }
            throw OCIError.engine(source: source, reason: "reading from the engine: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads the status line and headers; leaves any body bytes that came with them in `pending`.
    func readHead(image: String) throws {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var end: Int?
        while end == nil {
            let n = try chunk.withUnsafeMutableBytes { try receive($0) }
            guard n > 0 else {
                throw OCIError.engine(source: source, reason: "the engine at \(clip(socket.path, limit: 200)) closed the connection without an answer")
            }
            let from = max(0, head.count - 3)
            head += chunk[..<n]
            if let i = Self.find([13, 10, 13, 10], in: head, from: from) { end = i }
            guard end != nil || head.count <= EngineSocket.maxHeaderBytes else {
                throw OCIError.engine(source: source, reason: "the answer's headers are longer than \(EngineSocket.maxHeaderBytes >> 10) KB: not a container engine")
            }
        }
        let headEnd = end ?? 0
        pending = Array(head[(headEnd + 4)...])
        let lines = String(decoding: head[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let status = lines.first.flatMap { line -> Int? in
            let parts = line.split(separator: " ")
            return parts.count >= 2 && parts[0].hasPrefix("HTTP/") ? Int(parts[1]) : nil
        }
        guard let status else {
            throw OCIError.engine(source: source, reason: "the socket \(clip(socket.path, limit: 200)) does not answer HTTP: not a container engine")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if let te = headers["transfer-encoding"], te.lowercased() != "identity" {
            throw OCIError.engine(source: source, reason: "the engine answered with Transfer-Encoding \(clip(te, limit: 40)) to an HTTP/1.0 request")
        }
        if let cl = headers["content-length"] {
            guard let n = Int64(cl), n >= 0 else {
                throw OCIError.engine(source: source, reason: "the engine's Content-Length \(clip(cl, limit: 40)) is not a length")
            }
            bodyLength = n
        }
        guard status == 200 else {
            let message = errorMessage()
            let name = clip(image, limit: 200)
            if status == 404 {
                throw OCIError.engine(source: source, reason: "the \(socket.engine.rawValue) engine has no image \"\(name)\"" + (message.isEmpty ? "" : " (\(message))") + "; pull or build it first, or scan its registry reference")
            }
            throw OCIError.engine(source: source, reason: "the \(socket.engine.rawValue) engine answered \(status) to saving \"\(name)\"" + (message.isEmpty ? "" : ": \(message)"))
        }
    }

    /// The engine's `{"message": …}` from a bounded read of an error body, made safe to print.
    private func errorMessage() -> String {
        var body = pending
        var chunk = [UInt8](repeating: 0, count: 4096)
        while body.count < EngineSocket.maxErrorBody, let n = try? chunk.withUnsafeMutableBytes({ try receive($0) }), n > 0 {
            body += chunk[..<n]
        }
        body = Array(body.prefix(EngineSocket.maxErrorBody))
        struct Message: Decodable { var message: String }
        let text = (try? JSONDecoder().decode(Message.self, from: Data(body)))?.message ?? String(decoding: body, as: UTF8.self)
        return clip(text.trimmingCharacters(in: .whitespacesAndNewlines), limit: 300)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0, fd >= 0 else { return 0 }
        var want = buffer.count
        if let bodyLength {
            guard position < bodyLength else { return 0 }
            want = Int(min(Int64(want), bodyLength - position))
        }
        let n: Int
        if !pending.isEmpty {
            n = min(want, pending.count)
            // Safe: `n` is at most both the buffer's and `pending`'s length.
            pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
            pending.removeFirst(n)
        } else {
            n = try receive(UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]))
            if n == 0, let bodyLength, position < bodyLength {
                throw OCIError.engine(source: source, reason: "truncated: the engine closed the connection at byte \(position) of \(bodyLength)")
            }
        }
        position += Int64(n)
        return n
    }

    /// Reads and drops bytes up to body offset `offset`; throws `truncated` if the body ends first.
    func skip(to offset: Int64) throws {
        var scratch = [UInt8](repeating: 0, count: 64 << 10)
        while position < offset {
            let want = Int(min(Int64(scratch.count), offset - position))
            let n = try scratch.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want])) }
            if n == 0 { throw OCIError.engine(source: source, reason: "truncated: the image ends at byte \(position)") }
        }
    }

    func readExactly(_ buf: inout [UInt8], at offset: Int64) throws {
        guard offset >= position else {
            throw OCIError.engine(source: source, reason: "internal: read at byte \(offset) after byte \(position) of a stream")
        }
        if offset > position { try skip(to: offset) }
        var done = 0
        let want = buf.count
        try buf.withUnsafeMutableBytes { b in
            while done < want {
                let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: b[done...]))
                if n == 0 { throw OCIError.engine(source: source, reason: "truncated: the image ends at byte \(position)") }
                done += n
            }
        }
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

/// One regular file of a streamed tar, at most `length` bytes of a fresh save stream from `offset`.
final class EngineEntrySource: ByteSource {
    private let stream: EngineStream
    private let end: Int64
    private let source: String

    init(_ stream: EngineStream, offset: Int64, length: Int64, source: String) throws {
        self.stream = stream
        self.source = source
        end = offset + length
        try stream.skip(to: offset)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let want = Int(min(Int64(buffer.count), end - stream.position))
        guard want > 0 else { return 0 }
        let n = try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]))
        if n == 0 { throw OCIError.engine(source: source, reason: "truncated: the image ends at byte \(stream.position)") }
        return n
    }

    func close() { stream.close() }
}

/// Bytes already in memory (a small file of a streamed tar kept while indexing it).
final class DataSource: ByteSource {
    private let data: [UInt8]
    private var position = 0

    init(_ data: [UInt8]) { self.data = data }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, data.count - position)
        guard n > 0 else { return 0 }
        // Safe: `n` is at most the buffer's length and what is left of `data`.
        data.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return n
    }
}

/// Text from an engine or the environment cut to `limit` characters (the CLI's one escape point makes it safe
/// for a terminal).
func clip(_ text: String, limit: Int) -> String {
    text.count > limit ? String(text.prefix(limit)) + "…" : text
}
