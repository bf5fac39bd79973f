// libFuzzer harness for the msgpack reader and the Fly macaroon decoder (Sources/Forensics, the Foundation-free
// files). Built by build.sh; hostile bytes must never trap, hang or grow memory without bound.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []

    // Every value in a row, as a reader walking a stream would.
    var reader = MsgPackReader(bytes)
    while !reader.isAtEnd {
        let before = reader.offset
        guard (try? reader.read()) != nil, reader.offset > before else { break }
    }

    // The same bytes as a macaroon, element by element, and as a caveat set.
    var m = Macaroon(label: "fm2")
    m.read(bytes)
    var whole = MsgPackReader(bytes)
    if let items = (try? whole.read())?.array { _ = FlyCaveat.parseSet(items).map { $0.flatMap(\.flattened) } }

    // And as the text form a scan finds: label, base64, bundle separators.
    let text = String(decoding: bytes, as: UTF8.self)
    for part in text.split(separator: ",") { _ = Macaroon.decode(token: part) }
    return 0
}
