import AsyncHTTPClient
import Core
import Foundation
import NIOCore
import OCI

/// Pushes an OCI layout's tagged image or index to a registry with the distribution API (monolithic
/// uploads, then manifests children first). Our own client, for tests: no auth, plain HTTP.
public enum RegistryPusher {
    public struct PushError: Error, CustomStringConvertible { public var description: String }

    /// Pushes the manifest tagged `tag` in `layout` (and everything it references) as `repository:tag`; returns its digest.
    @discardableResult
    public static func push(layout: String, tag: String, to host: String, repository: String) async throws -> Digest {
        let tree = DirectoryTree(root: layout)
        struct Top: Decodable { var manifests: [Descriptor] }
        let top = try JSONDecoder().decode(Top.self, from: try tree.read("index.json"))
        guard let root = top.manifests.first(where: { $0.annotations?[AnnotationKey.refName] == tag }) ?? top.manifests.first else {
            throw PushError(description: "\(layout): no manifest tagged \(tag)")
        }
        let base = "http://\(host)/v2/\(repository)"
        return try await HTTPClient.withHTTPClient { http in
            func blob(_ d: Digest) throws -> Data { try tree.read("blobs/sha256/\(d.encoded)") }
            func upload(_ d: Digest) async throws {
                var head = HTTPClientRequest(url: "\(base)/blobs/\(d)")
                head.method = .HEAD
                if try await http.execute(head, timeout: .seconds(30)).status == .ok { return }
                var start = HTTPClientRequest(url: "\(base)/blobs/uploads/")
                start.method = .POST
                let r = try await http.execute(start, timeout: .seconds(30))
                guard r.status == .accepted, let location = r.headers.first(name: "Location") else {
                    throw PushError(description: "upload start for \(d): \(r.status)")
                }
                let url = URL(string: location, relativeTo: URL(string: "http://\(host)")!)!.absoluteString
                var put = HTTPClientRequest(url: url + (url.contains("?") ? "&" : "?") + "digest=\(d)")
                put.method = .PUT
                put.headers.add(name: "Content-Type", value: "application/octet-stream")
                put.body = .bytes(ByteBuffer(bytes: try blob(d)))
                let done = try await http.execute(put, timeout: .seconds(300))
                guard done.status == .created else { throw PushError(description: "upload of \(d): \(done.status)") }
            }
            func putManifest(_ d: Descriptor, as reference: String) async throws {
                var req = HTTPClientRequest(url: "\(base)/manifests/\(reference)")
                req.method = .PUT
                req.headers.add(name: "Content-Type", value: d.mediaType)
                req.body = .bytes(ByteBuffer(bytes: try blob(d.digest)))
                let r = try await http.execute(req, timeout: .seconds(60))
                guard r.status == .created else { throw PushError(description: "manifest \(reference): \(r.status)") }
            }
            func pushManifest(_ d: Descriptor, as reference: String) async throws {
                let data = try blob(d.digest)
                if MediaType.isIndex(d.mediaType) {
                    let index = try JSONDecoder().decode(Index.self, from: data)
                    for child in index.manifests ?? [] { try await pushManifest(child, as: child.digest.description) }
                } else {
                    let m = try JSONDecoder().decode(Manifest.self, from: data)
                    for l in m.layers { try await upload(l.digest) }
                    try await upload(m.config.digest)
                }
                try await putManifest(d, as: reference)
            }
            try await pushManifest(root, as: tag)
            return root.digest
        }
    }
}
