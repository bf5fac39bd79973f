import Foundation

/// CRC-32 as gzip computes it, to build members by hand.
public func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xffff_ffff
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
    }
    return ~crc
}

/// Little-endian bytes.
public func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff)] }
/// Little-endian bytes.
public func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(v >> (8 * $0) & 0xff) } }

/// One gzip member built by hand: the header fields asked for, the data in stored deflate blocks,
/// and a trailer that may lie.
public struct GzipMember {
    public var data: [UInt8]
    public var extra: [UInt8]?
    public var name: String?
    public var comment: String?
    public var headerCRC = false
    public var wrongHeaderCRC = false
    public var crc: UInt32?
    public var isize: UInt32?

    public init(data: [UInt8], extra: [UInt8]? = nil, name: String? = nil, comment: String? = nil, headerCRC: Bool = false,
                wrongHeaderCRC: Bool = false, crc: UInt32? = nil, isize: UInt32? = nil) {
        self.data = data
        self.extra = extra
        self.name = name
        self.comment = comment
        self.headerCRC = headerCRC
        self.wrongHeaderCRC = wrongHeaderCRC
        self.crc = crc
        self.isize = isize
    }

    /// The member's bytes.
    public var bytes: [UInt8] {
        var flags: UInt8 = 0
        if headerCRC { flags |= 0x02 }
        if extra != nil { flags |= 0x04 }
        if name != nil { flags |= 0x08 }
        if comment != nil { flags |= 0x10 }
        var out: [UInt8] = [0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3]
        if let extra { out += le16(extra.count) + extra }
        if let name { out += Array(name.utf8) + [0] }
        if let comment { out += Array(comment.utf8) + [0] }
        if headerCRC { out += le16(Int(crc32(out) & 0xffff) ^ (wrongHeaderCRC ? 1 : 0)) }
        var rest = data[...]
        repeat {
            let block = rest.prefix(65_535)
            rest = rest.dropFirst(block.count)
            out += [rest.isEmpty ? 1 : 0] + le16(block.count) + le16(~block.count & 0xffff) + block
        } while !rest.isEmpty
        return out + le32(crc ?? crc32(data)) + le32(isize ?? UInt32(truncatingIfNeeded: data.count))
    }
}


/// gzip(1) compressing `data` (real deflate, not stored blocks).
public func gzipTool(_ data: [UInt8], args: [String] = ["-c", "-n"]) throws -> [UInt8] {
    let dir = try Run.tempDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/data"
    try Data(data).write(to: URL(fileURLWithPath: path))
    try Run.tool("sh", ["-c", "gzip \(args.joined(separator: " ")) '\(path)' > '\(path).gz'"])
    return Array(try Data(contentsOf: URL(fileURLWithPath: path + ".gz")))
}
