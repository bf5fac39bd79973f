import Foundation
@testable import Inspect
import Layers
import Testing

/// The overlay rules, glob matching and the terminal check, on values built in the test.
@Suite struct MergedTreeTests {
    /// A listing from `(path, kind)` pairs in tar order; `.wh.` names are whiteouts, as in a layer tar.
    func listing(_ index: Int, _ entries: [(String, LayerEntry.Kind)]) -> LayerListing {
        var l = LayerListing(index: index)
        for (i, (path, kind)) in entries.enumerated() {
            l.add(LayerEntry(path: path, kind: kind, size: kind == .file ? 10 : 0, linkTarget: kind == .symlink ? "target" : nil, mode: 0o644),
                  ordinal: i)
        }
        return l
    }

    func state(_ tree: MergedTree) -> [String] {
        tree.entries().map { "\($0.entry.path)@\($0.layer)" }.sorted()
    }

    @Test func whiteoutsAndOpaqueDirectoriesRemoveOnlyFromBelow() {
        var tree = MergedTree()
        _ = tree.apply(listing(0, [("/a", .directory), ("/a/x", .file), ("/a/y", .file), ("/b/c/d", .file)]))
        let changes = tree.apply(listing(1, [("/a/.wh..wh..opq", .file), ("/a/y", .file), ("/a/z", .file), ("/.wh.b", .file)]))
        #expect(state(tree) == ["/a/y@1", "/a/z@1", "/a@0"])
        #expect(changes.entries.map { "\($0.entry.path) \($0.change.rawValue)" } == ["/a/y modified", "/a/z added"])
        // /a/y is re-added by the same layer: it is modified, and its removal is not a deletion of the path.
        #expect(Set(changes.removals.map { "\($0.entry.path) \($0.via ?? "-")" }) == ["/a/x /a/.wh..wh..opq", "/a/y /a/.wh..wh..opq", "/b/c/d /.wh.b"])
        #expect(!tree.exists("/b") && !tree.exists("/b/c"))
    }

    @Test func aFileOverADirectoryRemovesWhatItHeldAndADirectoryOverAFileReplacesIt() {
        var tree = MergedTree()
        _ = tree.apply(listing(0, [("/d", .directory), ("/d/f", .file), ("/g", .file)]))
        let changes = tree.apply(listing(1, [("/d", .symlink), ("/g/h", .file)]))
        #expect(state(tree) == ["/d@1", "/g/h@1"])
        #expect(Set(changes.removals.map { "\($0.entry.path) \($0.via ?? "-")" }) == ["/d/f /d", "/g /g/h"])
        #expect(changes.entries.map { $0.change } == [.modified, .added])
    }

    @Test func aDirectoryNoTarNamesExistsThroughWhatIsUnderIt() {
        var tree = MergedTree()
        _ = tree.apply(listing(0, [("/usr/lib/x", .file)]))
        #expect(tree.exists("/usr") && tree.exists("/usr/lib"))
        let changes = tree.apply(listing(1, [("/usr", .directory)]))
        #expect(changes.entries.first?.change == .modified, "it existed below, implied")
    }

    @Test func resolvingFollowsLinksInsideTheTreeAndStopsLoops() {
        var tree = MergedTree()
        var l = LayerListing(index: 0)
        let links: [(String, String)] = [("/lib", "usr/lib"), ("/abs", "/usr/lib/x"), ("/up", "../../../usr/lib/x"), ("/loop1", "loop2"),
                                          ("/loop2", "loop1"), ("/usr/lib/self", "../lib/x")]
        l.add(LayerEntry(path: "/usr/lib/x", kind: .file, size: 3), ordinal: 0)
        for (i, (p, t)) in links.enumerated() { l.add(LayerEntry(path: p, kind: .symlink, size: 0, linkTarget: t), ordinal: i + 1) }
        _ = tree.apply(l)
        let x = tree.lookup("/usr/lib/x")
        for p in ["/lib/x", "/abs", "/up", "/usr/lib/self", "/lib/../lib/x"] {
            #expect(tree.resolve(p) == x.map { .found($0) }, "\(p)")
        }
        #expect(tree.resolve("/loop1") == .tooManyLinks)
        #expect(tree.resolve("/usr/lib/x/y") == .missing, "a file is not a directory")
        #expect(tree.resolve("/" + String(repeating: "a/", count: 3000)) == .missing)
    }

    @Test func aPathTheSameTarNamesTwiceKeepsTheLastAndCountsTheFirstAsShadowed() {
        let l = listing(0, [("/f", .file), ("/g", .file), ("/f", .symlink)])
        #expect(l.entries.map(\.path) == ["/f", "/g"])
        #expect(l.entry("/f")?.type == .symlink && l.entry("/f")?.ordinal == 2)
        #expect(l.shadowed.map(\.path) == ["/f"])
    }

    /// `cat`'s lookup agrees with the merged tree: a file of a lower layer is gone once a layer puts entries under its path.
    @Test func removesFromBelowSeesAFileMadeADirectoryByEntriesUnderIt() {
        let l = listing(2, [("/g/h", .file), ("/app", .directory)])
        #expect(l.removesFromBelow("/g"))
        for p in ["/g/h", "/gh", "/app", "/app/x"] { #expect(!l.removesFromBelow(p), "\(p)") }
        var tree = MergedTree()
        _ = tree.apply(listing(0, [("/g", .file)]))
        #expect(tree.apply(l).removals.map(\.entry.path) == ["/g"])
    }

    @Test func removesFromBelowSeesWhiteoutsOpaquesAndReplacedAncestors() {
        let l = listing(3, [("/a/.wh.x", .file), ("/o/.wh..wh..opq", .file), ("/f", .file)])
        for p in ["/a/x", "/a/x/deeper", "/o/any", "/f/below"] { #expect(l.removesFromBelow(p), "\(p)") }
        for p in ["/a/xy", "/o", "/f", "/other"] { #expect(!l.removesFromBelow(p), "\(p)") }
    }
}

@Suite struct PathGlobTests {
    @Test(arguments: [
        ("*.env", "/app/.env", true), ("*.env", "/app/prod.env", true), ("*.env", "/app/.env.bak", false),
        ("/app/*", "/app/.env", true), ("/app/*", "/app/a/b/c", true), ("/app/*", "/app", false), ("app/*", "/app/x", true),
        ("/app/?.txt", "/app/a.txt", true), ("/app/?.txt", "/app/ab.txt", false),
        ("[ab]*", "/x/apple", true), ("[!ab]*", "/x/apple", false), ("[a-c]at", "/bat", true), ("[a-c]at", "/rat", false),
        ("*", "/anything/at/all", true), ("/etc/[", "/etc/[", true), ("**/id_*", "/root/.ssh/id_rsa", true),
        ("/*/.ssh/id_*", "/home/u/.ssh/id_ed25519", true), ("/*/.ssh/id_*", "/root/.ssh/known_hosts", false),
    ])
    func matches(pattern: String, path: String, expected: Bool) {
        #expect(PathGlob(pattern).matches(path) == expected)
    }

    @Test func aHostilePathIsMatchedInBoundedSteps() {
        let path = "/" + String(repeating: "a", count: 20_000)
        #expect(!PathGlob("*a*a*a*a*a*b").matches(path))
    }
}

@Suite struct PlainTextCheckTests {
    @Test(arguments: [
        ("plain text\nwith lines\r\n\tand tabs", true), ("UTF-8: é ü 日本 🚀", true), ("bell\u{07}", false), ("esc \u{1B}[31m", false),
        ("nul \u{0}", false), ("del \u{7F}", false), ("c1 csi \u{9B}31m", false), ("c1 nel \u{85}", false), ("nbsp \u{A0} ok", true),
    ])
    func decidesOnText(text: String, plain: Bool) {
        let bytes = Array(text.utf8)
        // Split at every position: a character cut across two chunks is judged as a whole.
        for cut in 0...bytes.count {
            let check = PlainTextCheck()
            let first = bytes[..<cut].withUnsafeBytes { check.accepts($0) }
            let second = first && bytes[cut...].withUnsafeBytes { check.accepts($0) }
            #expect(second == plain, "\(text.debugDescription) cut at \(cut)")
        }
    }

    @Test func invalidUTF8IsNotPlainText() {
        for bytes: [UInt8] in [[0xFF], [0x80], [0xC3, 0x28], [0xE2, 0x82, 0x41], [0xF8, 0x88, 0x80, 0x80]] {
            let check = PlainTextCheck()
            #expect(!bytes.withUnsafeBytes { check.accepts($0) }, "\(bytes)")
        }
    }
}
