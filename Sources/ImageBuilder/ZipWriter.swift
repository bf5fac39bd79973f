import CArchive
import Foundation
import Layers

/// Writes a zip archive in memory (jar, wheel, any zip-family file) for test and demo images: members stored or
/// deflated, sizes in the local header or in a data descriptor after the data (as streaming writers do), with
/// or without the descriptor's optional signature. No zip64: each member and the archive stay under 4 GB.
public struct ZipWriter {
    /// A member's data as raw deflate, with the CRC-32 and size of what it inflates to.
    public struct Deflated: Sendable {
        public var data: [UInt8]
        public var crc: UInt32
        public var size: Int64
    }

    public enum Method: Sendable { case stored, deflated }

    /// Where a member's sizes and CRC are written.
    public enum Sizes: Sendable {
        /// In the local header.
        case header
        /// In a data descriptor after the data, with its signature.
        case descriptor
        /// In a data descriptor without its (optional) signature.
        case bareDescriptor
    }

    private var out: [UInt8] = []
    private var central: [UInt8] = []
    private var count = 0

    public init() {}

    /// Adds a member with these bytes.
    public mutating func add(_ name: String, _ content: [UInt8], method: Method = .deflated, sizes: Sizes = .header) throws {
        switch method {
        case .stored:
            add(name, method: 0, data: content, crc: Self.crc32(content), size: Int64(content.count), sizes: sizes)
        case .deflated:
            let d = try Self.deflate(content)
            add(name, deflated: d, sizes: sizes)
        }
    }

    /// Adds a member whose data was deflated already (the same data can go in many times: a bomb costs one deflate).
    public mutating func add(_ name: String, deflated d: Deflated, sizes: Sizes = .header) {
        add(name, method: 8, data: d.data, crc: d.crc, size: d.size, sizes: sizes)
    }

    private mutating func add(_ name: String, method: UInt16, data: [UInt8], crc: UInt32, size: Int64, sizes: Sizes) {
        let nameBytes = Array(name.utf8)
        let offset = UInt32(out.count)
        let flags: UInt16 = (sizes == .header ? 0 : 1 << 3) | 1 << 11
        let inHeader = sizes == .header
        // Local header: signature, version needed, flags, method, time, date, crc, sizes, name and extra lengths.
        put(&out, 0x0403_4B50, 4)
        put(&out, 20, 2); put(&out, UInt64(flags), 2); put(&out, UInt64(method), 2); put(&out, 0, 2); put(&out, 0x21, 2)
        put(&out, inHeader ? UInt64(crc) : 0, 4)
        put(&out, inHeader ? UInt64(data.count) : 0, 4)
        put(&out, inHeader ? UInt64(size) : 0, 4)
        put(&out, UInt64(nameBytes.count), 2); put(&out, 0, 2)
        out += nameBytes
        out += data
        if !inHeader {
            if sizes == .descriptor { put(&out, 0x0807_4B50, 4) }
            put(&out, UInt64(crc), 4); put(&out, UInt64(data.count), 4); put(&out, UInt64(size), 4)
        }
        // Central directory entry.
        put(&central, 0x0201_4B50, 4)
        put(&central, 20, 2); put(&central, 20, 2); put(&central, UInt64(flags), 2); put(&central, UInt64(method), 2)
        put(&central, 0, 2); put(&central, 0x21, 2)
        put(&central, UInt64(crc), 4); put(&central, UInt64(data.count), 4); put(&central, UInt64(size), 4)
        put(&central, UInt64(nameBytes.count), 2); put(&central, 0, 2); put(&central, 0, 2)
        put(&central, 0, 2); put(&central, 0, 2); put(&central, 0, 4)
        put(&central, UInt64(offset), 4)
        central += nameBytes
        count += 1
    }

    /// The whole archive: members, central directory, end record.
    public func finish() -> [UInt8] {
        var z = out + central
        put(&z, 0x0605_4B50, 4)
        put(&z, 0, 2); put(&z, 0, 2); put(&z, UInt64(count), 2); put(&z, UInt64(count), 2)
        put(&z, UInt64(central.count), 4); put(&z, UInt64(out.count), 4); put(&z, 0, 2)
        return z
    }

    private func put(_ a: inout [UInt8], _ v: UInt64, _ n: Int) {
        for i in 0..<n { a.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    /// CRC-32 (IEEE, reflected), as zip and gzip use it.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
        }
        return ~c
    }

    /// Raw deflate of `bytes` (libarchive's gzip writer, header and trailer taken off).
    public static func deflate(_ bytes: [UInt8]) throws -> Deflated {
        try deflate { write in try bytes.withUnsafeBytes { try write($0) } }
    }

    /// Raw deflate of `count` zero bytes, written in blocks: never held whole.
    public static func deflateZeros(_ count: Int64) throws -> Deflated {
        try deflate { write in
            let block = [UInt8](repeating: 0, count: 1 << 20)
            var left = count
            while left > 0 {
                let n = Int(min(left, Int64(block.count)))
                try block.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                left -= Int64(n)
            }
        }
    }

    private static func deflate(_ content: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Deflated {
        let gz = try compress(filter: "gzip", content)
        // gzip: a 10-byte header (libarchive sets no optional field), the deflate data, CRC-32 and size mod 2^32.
        guard gz.count >= 18, gz[3] == 0 else { throw LayerError.archive(call: "deflate", reason: "unexpected gzip header") }
        let t = gz.count - 8
        let crc = (0..<4).reduce(UInt32(0)) { $0 | UInt32(gz[t + $1]) << (8 * UInt32($1)) }
        var size: Int64 = 0
        try content { size += Int64($0.count) }
        return Deflated(data: Array(gz[10..<t]), crc: crc, size: size)
    }

    /// `bytes` compressed whole with a libarchive filter (`gzip`, `zstd`, `xz`, `bzip2`): a lone compressed file.
    public static func compress(_ bytes: [UInt8], filter: String) throws -> [UInt8] {
        try compress(filter: filter) { write in try bytes.withUnsafeBytes { try write($0) } }
    }

    private static func compress(filter: String, _ content: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> [UInt8] {
        let box = Collect()
        guard let a = archive_write_new() else { throw LayerError.archive(call: "archive_write_new", reason: "out of memory") }
        defer { archive_write_free(a) }
        func check(_ rc: Int32, _ what: String) throws {
            if rc != ARCHIVE_OK {
                throw LayerError.archive(call: what, reason: archive_error_string(a).map { String(cString: $0) } ?? "failed")
            }
        }
        archive_write_set_format_raw(a)
        archive_write_set_bytes_in_last_block(a, 1)
        try check(archive_write_add_filter_by_name(a, filter), "add filter \(filter)")
        if filter == "gzip" { archive_write_set_filter_option(a, "gzip", "timestamp", nil) }
        try withExtendedLifetime(box) {
            try check(archive_write_open(a, Unmanaged.passUnretained(box).toOpaque(), nil, collectWrite, nil), "open")
            let e = archive_entry_new()
            defer { archive_entry_free(e) }
            archive_entry_set_pathname(e, "data")
            archive_entry_set_filetype(e, stowaway_ae_ifreg)
            try check(archive_write_header(a, e), "header")
            try content { chunk in
                if archive_write_data(a, chunk.baseAddress, chunk.count) < 0 { try check(ARCHIVE_FATAL, "write") }
            }
            try check(archive_write_close(a), "close")
        }
        return box.bytes
    }
}

/// What a compressing writer produced.
private final class Collect {
    var bytes: [UInt8] = []
}

private func collectWrite(_ a: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?, _ buf: UnsafeRawPointer?, _ n: Int) -> Int {
    let box = Unmanaged<Collect>.fromOpaque(ctx!).takeUnretainedValue()
    box.bytes += UnsafeRawBufferPointer(start: buf, count: n)
    return n
}
