import Core
import Foundation
import Layers
import OCI

/// Writes an `ImageSpec` as a docker save tarball or an OCI layout, streaming layers through `TarWriter`.
public enum ImageBuilder {
    public struct BuildError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Builds the image at `output` (a file for tar formats, a directory for `oci`); returns the config digest.
    @discardableResult
    public static func build(_ spec: ImageSpec, at output: String) throws -> Digest {
        let fm = FileManager.default
        let work = output + ".work"
        try? fm.removeItem(atPath: work)
        try? fm.removeItem(atPath: output)
        try fm.createDirectory(atPath: work + "/blobs/sha256", withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: work) }

        // Layers
        var layerDescriptors: [(digest: Digest, diffID: Digest, size: Int64, mediaType: String)] = []
        for (i, layer) in spec.layers.enumerated() {
            let compression = TarWriter.Compression(rawValue: layer.compression ?? spec.compression ?? "gzip") ?? .gzip
            let tmp = "\(work)/layer-\(i).tmp"
            guard fm.createFile(atPath: tmp, contents: nil) else { throw BuildError(description: "cannot create \(tmp)") }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: tmp))
            let writer = try TarWriter(compression: compression) { bytes in handle.write(Data(bytes)) }
            try write(layer, to: writer)
            let (diffID, digest, size) = try writer.finish()
            try handle.close()
            try fm.moveItem(atPath: tmp, toPath: "\(work)/blobs/sha256/\(digest.encoded)")
            let mediaType: String
            switch compression {
            case .none: mediaType = MediaType.ociLayerTar
            case .gzip: mediaType = MediaType.ociLayerGzip
            case .zstd: mediaType = MediaType.ociLayerZstd
            }
            layerDescriptors.append((digest, diffID, size, mediaType))
        }

        // Config
        var history: [[String: Any]] = []
        for h in spec.history ?? spec.layers.indices.map({ ImageSpec.History("/bin/sh -c #(nop) COPY layer \($0) in /") }) {
            var e: [String: Any] = ["created": "2026-11-01T00:00:00Z", "created_by": h.created_by]
            if h.empty_layer == true { e["empty_layer"] = true }
            if let c = h.comment { e["comment"] = c }
            history.append(e)
        }
        let nonEmpty = history.filter { $0["empty_layer"] == nil }.count
        guard nonEmpty == spec.layers.count else {
            throw BuildError(description: "history has \(nonEmpty) non-empty entries for \(spec.layers.count) layers")
        }
        var containerConfig = try JSONSerialization.jsonObject(with: JSONEncoder().encode(spec.config ?? ImageSpec.Config()))
        if var fields = containerConfig as? [String: Any], let extras = spec.containerExtras {
            for (k, v) in extras { fields[k] = v }
            containerConfig = fields
        }
        var config: [String: Any] = [
            "architecture": spec.architecture ?? "amd64", "os": spec.os ?? "linux", "created": "2026-11-01T00:00:00Z",
            "config": containerConfig,
            "rootfs": ["type": "layers", "diff_ids": layerDescriptors.map { $0.diffID.description }],
            "history": history,
        ]
        if let v = spec.variant { config["variant"] = v }
        let configData = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        let configDigest = Digest.sha256(of: configData)
        try configData.write(to: URL(fileURLWithPath: "\(work)/blobs/sha256/\(configDigest.encoded)"))

        // OCI manifest + index
        var manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": MediaType.ociManifest,
            "config": ["mediaType": MediaType.ociConfig, "digest": configDigest.description, "size": configData.count],
            "layers": layerDescriptors.map { ["mediaType": $0.mediaType, "digest": $0.digest.description, "size": $0.size] },
        ]
        if let a = spec.annotations { manifest["annotations"] = a }
        let manifestData = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys])
        let manifestDigest = Digest.sha256(of: manifestData)
        try manifestData.write(to: URL(fileURLWithPath: "\(work)/blobs/sha256/\(manifestDigest.encoded)"))
        let tag = spec.tag ?? "stowaway-fixture:latest"
        let index: [String: Any] = [
            "schemaVersion": 2, "mediaType": MediaType.ociIndex,
            "manifests": [["mediaType": MediaType.ociManifest, "digest": manifestDigest.description, "size": manifestData.count,
                           "platform": platform(spec),
                           "annotations": [AnnotationKey.refName: String(tag.split(separator: ":").last ?? "latest"),
                                           AnnotationKey.containerdName: tag]]],
        ]
        let layoutFiles: [(String, Data)] = [
            ("oci-layout", Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)),
            ("index.json", try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys])),
        ]

        switch spec.format {
        case .oci:
            for (name, data) in layoutFiles { try data.write(to: URL(fileURLWithPath: "\(work)/\(name)")) }
            try fm.moveItem(atPath: work, toPath: output)
            try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        case .ociTar, .docker25:
            var extra = layoutFiles
            if spec.format == .docker25 {
                let m: [[String: Any]] = [["Config": "blobs/sha256/\(configDigest.encoded)", "RepoTags": [tag],
                                           "Layers": layerDescriptors.map { "blobs/sha256/\($0.digest.encoded)" }]]
                extra.append(("manifest.json", try JSONSerialization.data(withJSONObject: m, options: [.sortedKeys])))
            }
            try writeOuterTar(output, work: work, blobs: [configDigest, manifestDigest] + layerDescriptors.map(\.digest), extra: extra)
        case .dockerLegacy:
            try writeLegacy(output, work: work, configData: configData, configDigest: configDigest, layers: layerDescriptors.map(\.digest), tag: tag)
        }
        return configDigest
    }

    private static func platform(_ spec: ImageSpec) -> [String: String] {
        var p = ["os": spec.os ?? "linux", "architecture": spec.architecture ?? "amd64"]
        if let v = spec.variant { p["variant"] = v }
        return p
    }

    /// Builds a multi-platform OCI layout at `output`: one image per spec (each names its platform), one
    /// index tagged `tag`. Identical layers are one blob. Returns the layout path.
    public static func buildMultiPlatform(_ specs: [ImageSpec], tag: String, at output: String) throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: output)
        try fm.createDirectory(atPath: output + "/blobs/sha256", withIntermediateDirectories: true)
        var entries: [[String: Any]] = []
        for (i, var spec) in specs.enumerated() {
            spec.format = .oci
            let one = output + ".platform-\(i)"
            try build(spec, at: one)
            defer { try? fm.removeItem(atPath: one) }
            for blob in try fm.contentsOfDirectory(atPath: one + "/blobs/sha256") where !fm.fileExists(atPath: "\(output)/blobs/sha256/\(blob)") {
                try fm.copyItem(atPath: "\(one)/blobs/sha256/\(blob)", toPath: "\(output)/blobs/sha256/\(blob)")
            }
            let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: one + "/index.json"))) as! [String: Any]
            var entry = (index["manifests"] as! [[String: Any]])[0]
            entry["annotations"] = nil
            entries.append(entry)
        }
        let index: [String: Any] = ["schemaVersion": 2, "mediaType": MediaType.ociIndex, "manifests": entries]
        let indexData = try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys])
        let indexDigest = Digest.sha256(of: indexData)
        try indexData.write(to: URL(fileURLWithPath: "\(output)/blobs/sha256/\(indexDigest.encoded)"))
        let top: [String: Any] = ["schemaVersion": 2, "manifests": [[
            "mediaType": MediaType.ociIndex, "digest": indexDigest.description, "size": indexData.count,
            "annotations": [AnnotationKey.refName: tag]]]]
        try JSONSerialization.data(withJSONObject: top, options: [.sortedKeys]).write(to: URL(fileURLWithPath: output + "/index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: output + "/oci-layout"))
    }

    private static func write(_ layer: ImageSpec.Layer, to writer: TarWriter) throws {
        for f in layer.files ?? [] {
            guard let mode = Int32(f.mode ?? "644", radix: 8) else { throw BuildError(description: "\(f.path): mode \(f.mode ?? "") is not octal") }
            switch f.type ?? "file" {
            case "dir": try writer.addDirectory(f.path)
            case "symlink": try writer.addSymlink(f.path, target: f.target ?? "")
            case "hardlink": try writer.addHardlink(f.path, target: f.target ?? "")
            case _ where f.bytes != nil:
                try writer.addFile(f.path, bytes: Array(f.bytes ?? Data()), mode: mode)
            case _ where f.randomBytes != nil:
                guard let random = FileHandle(forReadingAtPath: "/dev/urandom") else { throw BuildError(description: "no /dev/urandom") }
                var remaining = f.randomBytes!
                try writer.addFile(f.path, size: remaining, mode: mode) { buf in
                    let data = random.readData(ofLength: Int(min(Int64(buf.count), remaining)))
                    data.copyBytes(to: buf.bindMemory(to: UInt8.self), count: data.count)
                    remaining -= Int64(data.count)
                    return data.count
                }
            default:
                let unit = Array((f.content ?? "").utf8)
                let times = f.repeatCount ?? 1
                let total = Int64(unit.count) * Int64(times)
                var produced: Int64 = 0
                try writer.addFile(f.path, size: total, mode: mode) { buf in
                    var n = 0
                    while n < buf.count && produced < total && !unit.isEmpty {
                        let pos = Int(produced % Int64(unit.count))
                        let take = min(unit.count - pos, buf.count - n, Int(total - produced))
                        unit.withUnsafeBytes { buf.baseAddress!.advanced(by: n).copyMemory(from: $0.baseAddress! + pos, byteCount: take) }
                        n += take
                        produced += Int64(take)
                    }
                    return n
                }
            }
        }
        for dir in layer.hostDirectories ?? [] {
            try addHostDirectory(dir, to: writer)
        }
    }

    private static func addHostDirectory(_ dir: ImageSpec.HostDirectory, to writer: TarWriter) throws {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: dir.source) else { throw BuildError(description: "cannot read \(dir.source)") }
        var paths: [String] = []
        while let p = walker.nextObject() as? String { paths.append(p) }
        for rel in paths.sorted() {
            let full = dir.source + "/" + rel
            let inLayer = dir.prefix.isEmpty ? rel : dir.prefix + "/" + rel
            guard let attrs = try? fm.attributesOfItem(atPath: full) else { continue }
            switch attrs[.type] as? FileAttributeType {
            case .typeDirectory?: try writer.addDirectory(inLayer)
            case .typeSymbolicLink?:
                if let t = try? fm.destinationOfSymbolicLink(atPath: full) { try writer.addSymlink(inLayer, target: t) }
            case .typeRegular?:
                guard let h = FileHandle(forReadingAtPath: full) else { continue }
                let size = (attrs[.size] as? NSNumber)?.int64Value ?? 0
                var remaining = size
                try writer.addFile(inLayer, size: size) { buf in
                    guard remaining > 0 else { return 0 }
                    let data = h.readData(ofLength: min(buf.count, Int(remaining)))
                    data.copyBytes(to: buf.bindMemory(to: UInt8.self), count: data.count)
                    remaining -= Int64(data.count)
                    return data.count
                }
                try h.close()
            default: continue
            }
        }
    }

    private static func copyFile(_ path: String, into writer: TarWriter, as name: String) throws {
        let size = ((try FileManager.default.attributesOfItem(atPath: path))[.size] as? NSNumber)?.int64Value ?? 0
        guard let h = FileHandle(forReadingAtPath: path) else { throw BuildError(description: "cannot read \(path)") }
        defer { try? h.close() }
        try writer.addFile(name, size: size) { buf in
            let data = h.readData(ofLength: buf.count)
            data.copyBytes(to: buf.bindMemory(to: UInt8.self), count: data.count)
            return data.count
        }
    }

    private static func outerWriter(_ output: String) throws -> (TarWriter, FileHandle) {
        guard FileManager.default.createFile(atPath: output, contents: nil) else { throw BuildError(description: "cannot create \(output)") }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        return (try TarWriter(compression: .none) { handle.write(Data($0)) }, handle)
    }

    private static func writeOuterTar(_ output: String, work: String, blobs: [Digest], extra: [(String, Data)]) throws {
        let (writer, handle) = try outerWriter(output)
        try writer.addDirectory("blobs")
        try writer.addDirectory("blobs/sha256")
        var seen = Set<Digest>()
        for d in blobs where seen.insert(d).inserted {
            try copyFile("\(work)/blobs/sha256/\(d.encoded)", into: writer, as: "blobs/sha256/\(d.encoded)")
        }
        for (name, data) in extra { try writer.addFile(name, bytes: Array(data)) }
        _ = try writer.finish()
        try handle.close()
    }

    private static func writeLegacy(_ output: String, work: String, configData: Data, configDigest: Digest, layers: [Digest], tag: String) throws {
        let (writer, handle) = try outerWriter(output)
        var layerPaths: [String] = []
        var parent: String?
        for (i, d) in layers.enumerated() {
            // Legacy layer directories are v1 ids (a chain of hashes), not diffIDs.
            let id = Digest.sha256(of: Array("\(parent ?? "")|\(d)|\(i)".utf8)).encoded
            try writer.addDirectory(id)
            try writer.addFile("\(id)/VERSION", bytes: Array("1.0".utf8))
            var json: [String: Any] = ["id": id]
            if let parent { json["parent"] = parent }
            try writer.addFile("\(id)/json", bytes: Array(try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])))
            try copyFile("\(work)/blobs/sha256/\(d.encoded)", into: writer, as: "\(id)/layer.tar")
            layerPaths.append("\(id)/layer.tar")
            parent = id
        }
        try writer.addFile("\(configDigest.encoded).json", bytes: Array(configData))
        let manifest: [[String: Any]] = [["Config": "\(configDigest.encoded).json", "RepoTags": [tag], "Layers": layerPaths]]
        try writer.addFile("manifest.json", bytes: Array(try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys])))
        let repo = String(tag.split(separator: ":").first ?? "")
        let repositories = [repo: [String(tag.split(separator: ":").last ?? "latest"): parent ?? ""]]
        try writer.addFile("repositories", bytes: Array(try JSONSerialization.data(withJSONObject: repositories, options: [.sortedKeys])))
        _ = try writer.finish()
        try handle.close()
    }
}
