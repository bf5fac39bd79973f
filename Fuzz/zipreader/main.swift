// libFuzzer harness for the zip fast path (Sources/Layers/ZipReader.swift): the input is a kept zip. Hostile bytes
// must never trap, hang, read outside the zip or grow memory without bound; every member the reader plans lies
// inside the zip; and where the fast path takes a zip, the walk sees the same files and notes as libarchive's
// with libarchive's reasons (and the same bytes when nothing was corrupt).

/// A precondition whose message survives -O (the crash report says what differed).
func require(_ condition: Bool, _ message: @autoclosure () -> String = "") {
    if !condition { fatalError(message()) }
}

final class Recorder: ArchiveVisitor {
    var lines: [String] = []
    var noted = false
    var reasons: [String] = []
    private var counts: [Int] = []

    func begin(path: String, outer: String, depth: Int, size: Int64) throws {
        lines.append("begin \(depth) \(path) \(size)")
        counts.append(0)
    }
    func bytes(_ chunk: UnsafeRawBufferPointer, depth: Int) throws { counts[depth] += chunk.count }
    func bytesEnded(depth: Int) throws { lines.append("bytes \(depth) \(counts[depth])") }
    func end(depth: Int) throws {
        lines.append("end \(depth)")
        counts.removeLast()
    }
    func note(_ note: ArchiveNote) {
        noted = true
        reasons.append(note.reason)
        lines.append("note \(note.kind) \(note.path)")
    }
}

func walk(_ data: UnsafePointer<UInt8>?, _ size: Int, fast: Bool) -> Recorder {
    var limits = ArchiveLimits()
    limits.maxBytesPerFile = 8 << 20
    limits.maxBytesPerLayer = 16 << 20
    limits.maxMembersPerFile = 1000
    let walker = ArchiveWalker(limits: limits)
    walker.fastZips = fast
    let r = Recorder()
    var offset = 0
    do {
        try walker.walk(path: "/app/f.jar", size: Int64(size), visitor: r) { b in
            let n = min(b.count, size - offset)
            if n > 0, let data { b.baseAddress!.copyMemory(from: data + offset, byteCount: n) }
            offset += n
            return n
        }
    } catch {
        require(false, "the walk threw \(error) on bytes the source gave without failing")
    }
    return r
}

/// Every member of a plan read to its end (or its error), in odd-sized pulls, bounded.
func readMembers(_ reader: ZipReader, _ size: Int) {
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 7919, alignment: 1)
    defer { out.deallocate() }
    var total = 0
    for (i, e) in reader.entries.enumerated() {
        require(e.dataOffset >= 30 && e.compressedSize >= 0 && e.dataOffset + e.compressedSize <= Int64(size), "\(e) outside the zip")
        guard e.isFile else { continue }
        let m = reader.open(i)
        do {
            while total < 32 << 20 {
                let n = try m.read(into: out)
                require(n >= 0 && n <= out.count)
                if n == 0 { break }
                total += n
            }
        } catch let error as ZipReader.MemberError {
            if error.fatal { break }
        } catch {
            require(false, "a member threw \(error)")
        }
        require(reader.bytesRead <= Int64(size) * 4 + (1 << 20), "read \(reader.bytesRead) of a \(size)-byte zip")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let spill = SpillBuffer(limit: 1 << 30)
    if size > 0, let data {
        guard (try? spill.append(UnsafeRawBufferPointer(start: data, count: size))) == true else { return 0 }
    }
    // The directory survey (member limit, overlapping members) runs on every zip before any reader: bounded work,
    // and an overlap it reports is one the fast path would refuse too.
    let survey = ZipDirectory.survey(spill, limit: 1000)
    if case .overlapping = survey { require(ZipReader(spill: spill) == nil, "the survey found an overlap the fast path takes") }
    if case .tooManyMembers(_, _, let part) = survey, let capped = ZipReader(spill: spill, lenient: true, directory: part) {
        require(capped.entries.count <= 1000, "a capped plan took \(capped.entries.count) entries")
        readMembers(capped, size)
    }
    if case .tooManyMembers(_, let counted, _) = survey { require(counted <= 1001, "the survey counted \(counted) records") }
    // The lenient plan (used when libarchive gives up on the whole directory): its members too lie inside the zip.
    if let lenient = ZipReader(spill: spill, lenient: true) { readMembers(lenient, size) }
    guard let reader = ZipReader(spill: spill) else { return 0 }
    readMembers(reader, size)
    // Only inputs that are zips as a layer file (the walk sniffs the local header signature) go through the walk.
    guard size >= 4, let data, data[0] == 0x50, data[1] == 0x4B, data[2] == 3, data[3] == 4 else { return 0 }
    let mine = walk(data, size, fast: true), theirs = walk(data, size, fast: false)
    guard mine.lines != theirs.lines else { return 0 }
    // zlib refuses some Huffman tables ISA-L takes ("invalid distances set"): where the fast path read a member
    // whole, its CRC-32 and size right, that libarchive called unreadable, the walks agree up to that member.
    let common = min(mine.lines.count, theirs.lines.count)
    let k = (0..<common).first { mine.lines[$0] != theirs.lines[$0] } ?? common
    if let begin = theirs.lines[..<min(k + 1, theirs.lines.count)].last(where: { $0.hasPrefix("begin ") }) {
        let path = begin.split(separator: " ")[2]
        if theirs.lines.contains("note unreadable \(path)") && !mine.lines.contains("note unreadable \(path)") { return 0 }
    }
    let report = "fast: \(mine.lines) \(mine.reasons)\nlibarchive: \(theirs.lines) \(theirs.reasons)"
    // A corrupt member may lose a different part of its last block: files and notes must agree.
    let shape = { (r: Recorder) in r.lines.filter { !$0.hasPrefix("bytes") } }
    require((mine.noted || theirs.noted) && shape(mine) == shape(theirs) && mine.reasons == theirs.reasons, report)
    return 0
}
