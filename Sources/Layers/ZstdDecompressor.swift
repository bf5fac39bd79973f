import CZstd

/// zstd with libzstd's streaming decoder, frame after frame (skippable frames included, as `zstd -d`).
/// Content checksums are checked by libzstd when a frame carries one. Bytes after the last frame that
/// do not start another frame are trailing data, left for `LayerReader` to surface.
final class ZstdDecompressor: Decompressor {
    let compression = LayerCompression.zstd
    private(set) var hasTrailingData = false
    private let input: BlobInput
    private let layer: String
    // libzstd's decoder handle, created here and freed in deinit.
    private let stream: OpaquePointer
    /// Inside a frame: the last call did not end it (libzstd returned a hint > 0).
    private var inFrame = false
    private var ended = false
    private var frames = 0

    /// Whether the bytes start a zstd frame or a skippable frame.
    static func startsFrame(_ b: [UInt8]) -> Bool {
        guard b.count >= 4 else { return false }
        let magic = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
        return magic == 0xFD2F_B528 || magic & 0xFFFF_FFF0 == 0x184D_2A50
    }

    init(input: BlobInput, layer: String) throws {
        self.input = input
        self.layer = layer
        guard let s = ZSTD_createDStream() else { throw LayerError.archive(call: "ZSTD_createDStream", reason: "out of memory") }
        stream = s
        let r = ZSTD_initDStream(s)
        if ZSTD_isError(r) != 0 {
            ZSTD_freeDStream(s)
            throw LayerError.archive(call: "ZSTD_initDStream", reason: String(cString: ZSTD_getErrorName(r)))
        }
    }

    /// Output worth handing over before the next read from the source.
    static let handOverAt = 64 * 1024

    deinit { ZSTD_freeDStream(stream) }

    func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < out.count && !ended {
            if !inFrame {
                let have = try input.ensure(4)
                if have == 0 || (frames > 0 && !Self.startsFrame(Array(input.pending.prefix(4)))) {
                    hasTrailingData = have > 0
                    ended = true
                    break
                }
                frames += 1
            }
            if input.available == 0 {
                // Hand over a good part of a buffer before waiting on the source (a slow network stream),
                // but not every scrap a registry stream delivers: each hand-over costs a wake-up.
                if filled >= Self.handOverAt { return filled }
                guard try input.refill() else {
                    throw LayerError.corrupt(layer: layer, reason: "truncated zstd stream: the blob ends inside frame \(frames)")
                }
            }
            let pending = input.pending
            let space = out.count - filled
            // Unsafe pointers: libzstd reads `pending` and writes into `out` only during this call.
            var inBuf = ZSTD_inBuffer(src: pending.baseAddress, size: pending.count, pos: 0)
            var outBuf = ZSTD_outBuffer(dst: out.baseAddress!.advanced(by: filled), size: space, pos: 0)
            let hint = StageTimes.measure(.inflate) { ZSTD_decompressStream(stream, &outBuf, &inBuf) }
            input.consume(inBuf.pos)
            filled += outBuf.pos
            if ZSTD_isError(hint) != 0 {
                throw LayerError.corrupt(layer: layer, reason: "corrupt zstd data in frame \(frames): \(String(cString: ZSTD_getErrorName(hint)))")
            }
            inFrame = hint != 0
            if inFrame && inBuf.pos == 0 && outBuf.pos == 0 && input.available > 0 {
                throw LayerError.corrupt(layer: layer, reason: "zstd frame \(frames) makes no progress")
            }
        }
        return filled
    }
}
