import CISAL

/// gzip (RFC 1952) with ISA-L's inflate, streaming, member after member.
///
/// The member header is parsed here, so a header split across reads, the optional fields (FEXTRA,
/// FNAME, FCOMMENT of any length) and the FHCRC check are under our control; ISA-L inflates the deflate
/// body with `ISAL_GZIP_NO_HDR_VER`, which computes the CRC-32 and checks the 8-byte trailer (CRC-32 and
/// ISIZE) that follows the body. ISA-L says only "incorrect checksum" for either; which field is wrong is
/// worked out from the trailer bytes it just consumed. Bytes after the last member that do not start
/// another member are trailing data, left for `LayerReader` to surface.
final class GzipInflater: Decompressor {
    let compression = LayerCompression.gzip
    private(set) var hasTrailingData = false
    private let input: BlobInput
    private let layer: String
    // Unsafe pointer: ISA-L's inflate state (about 85 KB, too large for the stack), owned and freed here, or lent by
    // the caller (who frees it after this object is gone).
    private let state: UnsafeMutablePointer<inflate_state>
    private let ownsState: Bool
    private enum Phase { case header, body, ended }
    private var phase = Phase.header
    /// Members begun so far; the current one, 1-based, in messages.
    private var member = 0
    /// Blob offset where the current member began.
    private var memberStart: Int64 = 0

    /// Corrupt data met after some bytes were made is thrown on the next call, so those bytes are not lost (an
    /// archive inside a file is scanned as far as it inflates; a layer fails whole either way).
    private let deferErrors: Bool
    private var deferred: Error?

    /// `state`, when given, is a lent inflate state (initialised here again), reused by a walker for each of its
    /// small files rather than made and freed for each.
    init(input: BlobInput, layer: String, deferErrors: Bool = false, state lent: UnsafeMutablePointer<inflate_state>? = nil) throws {
        self.input = input
        self.layer = layer
        self.deferErrors = deferErrors
        state = lent ?? .allocate(capacity: 1)
        ownsState = lent == nil
        // Zeroed first: no field ISA-L's init leaves alone can carry another allocation's (or file's) bytes.
        state.initialize(to: inflate_state())
        isal_inflate_init(state)
        state.pointee.crc_flag = UInt32(ISAL_GZIP_NO_HDR_VER)
    }

    /// Output worth handing over before the next read from the source.
    static let handOverAt = 64 * 1024

    deinit { if ownsState { state.deallocate() } }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        if let e = deferred {
            deferred = nil
            phase = .ended
            throw e
        }
        var filled = 0
        do {
            return try inflate(into: out, filled: &filled)
        } catch let e as LayerError where deferErrors && filled > 0 {
            // Only the data's own faults wait; the source's failures and stops go through at once.
            deferred = e
            return filled
        }
    }

    private func inflate(into out: UnsafeMutableRawBufferPointer, filled: inout Int) throws -> Int {
        while filled < out.count {
            switch phase {
            case .ended:
                return filled
            case .header:
                guard try readHeader() else {
                    phase = .ended
                    return filled
                }
                isal_inflate_reset(state)
                phase = .body
            case .body:
                if input.available == 0 {
                    // Hand over a good part of a buffer before waiting on the source (a slow network stream),
                    // but not every scrap a registry stream delivers: each hand-over costs a wake-up.
                    if filled >= Self.handOverAt { return filled }
                    guard try input.refill() else { throw corrupt("truncated gzip stream: the blob ends inside member \(member)") }
                }
                let pending = input.pending
                let space = out.count - filled
                // Unsafe pointers: ISA-L reads `pending` and writes into `out` only during this call.
                state.pointee.next_in = UnsafeMutablePointer(mutating: pending.baseAddress!.assumingMemoryBound(to: UInt8.self))
                state.pointee.avail_in = UInt32(pending.count)
                state.pointee.next_out = out.baseAddress!.advanced(by: filled).assumingMemoryBound(to: UInt8.self)
                state.pointee.avail_out = UInt32(space)
                let ret = StageTimes.measure(.inflate) { isal_inflate(state) }
                // Negative when a member ends: ISA-L gives back what it read ahead into its bit buffer, which may
                // have come from an earlier call's input (still in the buffer: `BlobInput.keptBack`).
                let consumed = pending.count - Int(state.pointee.avail_in)
                let made = space - Int(state.pointee.avail_out)
                guard consumed >= -input.canGiveBack else {
                    throw corrupt("gzip member \(member): the inflater gave back \(-consumed) bytes it was not given")
                }
                input.consume(consumed)
                filled += made
                if ret < 0 { throw inflateError(ret) }
                if state.pointee.block_state == ISAL_BLOCK_FINISH {
                    phase = .header
                } else if consumed == 0 && made == 0 && input.available > 0 {
                    throw corrupt("gzip member \(member) makes no progress (ISA-L state \(state.pointee.block_state.rawValue))")
                }
            }
        }
        return filled
    }

    // MARK: header

    /// Parses the next member's header; false at the end of the stream (clean, or trailing data).
    private func readHeader() throws -> Bool {
        let have = try input.ensure(2)
        if have == 0 { return false }
        let p = input.pending
        if have < 2 || p[0] != 0x1f || p[1] != 0x8b {
            hasTrailingData = true
            return false
        }
        member += 1
        memberStart = input.total - Int64(input.available)
        var header = HeaderReader(input: input, member: member, inflater: self)
        let fixed = try header.take(10)
        let method = fixed[2], flags = fixed[3]
        guard method == 8 else { throw corrupt("gzip member \(member) uses compression method \(method), not deflate") }
        guard flags & 0xe0 == 0 else { throw corrupt("gzip member \(member) has reserved header flags set (0x\(String(flags, radix: 16)))") }
        if flags & 0x04 != 0 {   // FEXTRA: a 2-byte length, then that many bytes.
            let len = try header.take(2)
            try header.skip(Int(len[0]) | Int(len[1]) << 8)
        }
        if flags & 0x08 != 0 { try header.skipString() }   // FNAME
        if flags & 0x10 != 0 { try header.skipString() }   // FCOMMENT
        if flags & 0x02 != 0 {   // FHCRC: the low 16 bits of the CRC-32 of the header so far.
            let computed = UInt16(truncatingIfNeeded: header.crc)
            let stored = try header.take(2, hashed: false)
            guard UInt16(stored[0]) | UInt16(stored[1]) << 8 == computed else {
                throw corrupt("gzip member \(member) header checksum (FHCRC) mismatch")
            }
        }
        return true
    }

    fileprivate func corrupt(_ reason: String) -> LayerError {
        LayerError.corrupt(layer: layer, reason: reason)
    }

    private func inflateError(_ ret: Int32) -> Error {
        if let e = input.sourceError { return e }
        switch ret {
        case ISAL_INCORRECT_CHECKSUM:
            let t = input.lastConsumed(8)
            guard t.count == 8 else { return corrupt("gzip member \(member): trailer mismatch") }
            func le32(_ i: Int) -> UInt32 { UInt32(t[i]) | UInt32(t[i + 1]) << 8 | UInt32(t[i + 2]) << 16 | UInt32(t[i + 3]) << 24 }
            let crc = state.pointee.crc, size = state.pointee.total_out
            if le32(0) != crc {
                return corrupt("CRC-32 mismatch in gzip member \(member): the trailer says \(hex(le32(0))), the data has \(hex(crc))")
            }
            if le32(4) != size {
                return corrupt("ISIZE mismatch in gzip member \(member): the trailer says \(le32(4)) bytes, the member inflates to \(size) (mod 2^32)")
            }
            return corrupt("gzip member \(member): trailer mismatch")
        case ISAL_INVALID_BLOCK: return corrupt(bodyReason("invalid deflate block"))
        case ISAL_INVALID_SYMBOL: return corrupt(bodyReason("invalid deflate symbol"))
        case ISAL_INVALID_LOOKBACK: return corrupt(bodyReason("invalid deflate distance"))
        default: return corrupt(bodyReason("ISA-L inflate error \(ret)"))
        }
    }

    private func bodyReason(_ what: String) -> String {
        "corrupt data in gzip member \(member) (starting at byte \(memberStart) of the blob): \(what)"
    }

    private func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - s.count) + s
    }
}

/// Reads one gzip header from the input, whatever the read boundaries, keeping its CRC-32 for FHCRC.
private struct HeaderReader {
    let input: BlobInput
    let member: Int
    let inflater: GzipInflater
    var crc: UInt32 = 0

    /// `n` (small) bytes; throws if the blob ends first.
    mutating func take(_ n: Int, hashed: Bool = true) throws -> [UInt8] {
        guard try input.ensure(n) >= n else { throw truncated() }
        let bytes = UnsafeRawBufferPointer(rebasing: input.pending[..<n])
        if hashed { update(bytes) }
        let out = Array(bytes)
        input.consume(n)
        return out
    }

    /// Passes over `n` bytes (FEXTRA), in as many reads as it takes.
    mutating func skip(_ n: Int) throws {
        var left = n
        while left > 0 {
            if input.available == 0, try !input.refill() { throw truncated() }
            let k = min(left, input.available)
            update(UnsafeRawBufferPointer(rebasing: input.pending[..<k]))
            input.consume(k)
            left -= k
        }
    }

    /// Passes over a zero-terminated string (FNAME, FCOMMENT) of any length.
    mutating func skipString() throws {
        while true {
            if input.available == 0, try !input.refill() { throw truncated() }
            let p = input.pending
            if let zero = p.firstIndex(of: 0) {
                update(UnsafeRawBufferPointer(rebasing: p[...zero]))
                input.consume(zero + 1)
                return
            }
            update(p)
            input.consume(p.count)
        }
    }

    private mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        crc = crc32_gzip_refl(crc, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    private func truncated() -> Error {
        if let e = input.sourceError { return e }
        return inflater.corrupt("truncated gzip stream: the blob ends inside the header of member \(member)")
    }
}
