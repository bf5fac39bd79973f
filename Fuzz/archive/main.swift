// libFuzzer harness for the archive walk (Sources/Layers: ArchiveWalker, SpillBuffer, on libarchive): the input is
// one file of a layer. Hostile bytes must never trap, hang or grow memory without bound, and the visitor must see
// well-formed calls: begin and end in pairs, nested one level at a time, bytes only for a file open whose bytes
// have not ended (a streamed archive's own bytes keep coming while its members are read).

final class Checker: ArchiveVisitor {
    var open: [Bool] = []
    let maxDepth: Int

    init(maxDepth: Int) { self.maxDepth = maxDepth }

    func begin(path: String, outer: String, depth: Int, size: Int64) throws {
        precondition(depth == open.count && depth <= maxDepth, "begin at \(depth) with \(open.count) open")
        precondition(depth == 0 ? path == outer : path.hasPrefix(outer + "!/"), "chain \(path) not under \(outer)")
        open.append(false)
    }

    func bytes(_ chunk: UnsafeRawBufferPointer, depth: Int) throws {
        precondition(depth < open.count && !open[depth], "bytes at \(depth) with \(open)")
    }

    func bytesEnded(depth: Int) throws {
        precondition(depth == open.count - 1 && !open[depth], "bytesEnded at \(depth) with \(open)")
        open[depth] = true
    }

    func end(depth: Int) throws {
        precondition(depth == open.count - 1 && open[depth], "end at \(depth) with \(open)")
        open.removeLast()
    }

    func note(_ note: ArchiveNote) {}
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var limits = ArchiveLimits()
    limits.maxBytesPerFile = 8 << 20
    limits.maxBytesPerLayer = 16 << 20
    limits.maxMembersPerFile = 1000
    let walker = ArchiveWalker(limits: limits)
    let checker = Checker(maxDepth: limits.maxDepth)
    var offset = 0
    // Odd-sized pulls, as a layer's blocks arrive.
    do {
        try walker.walk(path: "/app/f.jar", size: Int64(size), visitor: checker) { b in
            let n = min(b.count, size - offset, 1 + (offset * 7919) % 70_001)
            if n > 0, let data { b.baseAddress!.copyMemory(from: data + offset, byteCount: n) }
            offset += n
            return n
        }
    } catch {
        preconditionFailure("the walk threw \(error) on bytes the source gave without failing")
    }
    precondition(checker.open.isEmpty && offset == size, "walk left \(checker.open.count) files open, read \(offset) of \(size)")
    return 0
}
