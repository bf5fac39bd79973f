import Testing
@testable import Layers

/// The overlay rules, in both of `Overlay`'s forms, on layers built in the test from tar entry names.
@Suite struct OverlayTests {
    enum Kind: String, Sendable {
        case file, dir, symlink, hardlink
    }

    struct Entry: Overlay.Entry, Equatable, CustomStringConvertible {
        var path: String
        var kind: Kind
        var isDirectory: Bool { kind == .dir }
        var description: String { "\(path) \(kind.rawValue)" }
    }

    /// A layer from `(tar name, kind)` in tar order; `.wh.` names are whiteouts and opaque markers. A path named
    /// twice keeps its first place and its last entry, as the inspector's listing and the scanner's result do.
    struct Layer: Overlay.ListedEvents {
        var whiteouts: [Overlay.Marker] = []
        var opaques: [Overlay.Marker] = []
        var entries: [Entry] = []

        init(_ names: [(String, Kind)]) {
            for (name, kind) in names {
                switch Whiteout.classify(name) {
                case .delete(let target): whiteouts.append(.init(path: target, marker: name))
                case .opaque(let dir): opaques.append(.init(path: dir, marker: name))
                case .metadata: continue
                case nil:
                    if let i = entries.firstIndex(where: { $0.path == name }) {
                        entries[i].kind = kind
                    } else {
                        entries.append(Entry(path: name, kind: kind))
                    }
                }
            }
        }

        func whitesOut(_ path: String) -> Bool { whiteouts.contains { $0.path == path } }
        func isOpaque(_ directory: String) -> Bool { opaques.contains { $0.path == directory } }
        func entryIsDirectory(_ path: String) -> Bool? { entries.last { $0.path == path }.map(\.isDirectory) }
        func holdsEntries(under path: String) -> Bool { entries.contains { $0.path.hasPrefix(path + "/") } }
        var pathCount: Int { whiteouts.count + opaques.count + entries.count }
        func forEachPath(_ body: (String) -> Void) {
            (whiteouts + opaques).forEach { body($0.path) }
            for e in entries {
                body(e.path)
                LayerPath.ancestors(e.path).forEach(body)
            }
        }
    }

    static func fate(of path: String, under names: [(String, Kind)]) -> Overlay.Fate? {
        Overlay.fate(of: path, ancestors: LayerPath.ancestors(path), in: Layer(names))
    }

    // MARK: one path (the scanner's form)

    /// What one later layer does to the file `/a/x` of a lower layer.
    @Test(arguments: [
        ("whiteout of the path", [("/a/.wh.x", Kind.file)], Overlay.Fate?.some(.deleted)),
        ("whiteout of an ancestor", [("/.wh.a", .file)], .deleted),
        ("opaque ancestor", [("/a/.wh..wh..opq", .file)], .deleted),
        ("opaque marker at the path itself: a file is no directory to empty", [("/a/x/.wh..wh..opq", .file)], nil),
        ("opaque marker further up", [("/.wh..wh..opq", .file)], .deleted),
        ("a file at the path", [("/a/x", .file)], .overwritten),
        ("a directory at the path", [("/a/x", .dir)], .overwritten),
        ("a hard link at the path", [("/a/x", .hardlink)], .overwritten),
        ("a symlink at the path", [("/a/x", .symlink)], .overwritten),
        ("a file at an ancestor", [("/a", .file)], .deleted),
        ("a symlink at an ancestor is no directory", [("/a", .symlink)], .deleted),
        ("a directory at an ancestor merges", [("/a", .dir)], nil),
        ("an entry under the path makes it a directory", [("/a/x/y", .file)], .deleted),
        ("a whiteout outranks the same layer's entry, either tar order", [("/a/x", .file), ("/a/.wh.x", .file)], .deleted),
        ("a whiteout under an opaque directory of the same layer", [("/a/.wh..wh..opq", .file), ("/a/.wh.x", .file)], .deleted),
        ("an overwrite outranks a replaced ancestor", [("/a", .file), ("/a/x", .file)], .overwritten),
        ("a sibling whose name starts with the path's", [("/a/.wh.xy", .file), ("/a/xy", .file), ("/a/x.d/f", .file)], nil),
        ("a sibling directory whose name starts with an ancestor's", [("/ab", .file), ("/.wh.ab", .file), ("/ab/.wh..wh..opq", .file)], nil),
        ("AUFS metadata is no whiteout", [("/a/.wh..wh.plnk", .file), ("/a/.wh..wh.aufs", .file)], nil),
        ("another directory", [("/b/x", .file), ("/b/.wh.x", .file)], nil),
        ("nothing", [], nil),
    ] as [(String, [(String, Kind)], Overlay.Fate?)])
    func fateOfAFile(_ rule: String, _ upper: [(String, Kind)], _ expected: Overlay.Fate?) {
        #expect(Self.fate(of: "/a/x", under: upper) == expected, "\(rule)")
    }

    @Test func theFirstLaterLayerThatDoesSomethingDecides() {
        let layers = [
            Layer([("/a/x", .file), ("/a/y", .file)]),
            Layer([("/a", .dir), ("/b", .file)]),
            Layer([("/a/x", .file)]),
            Layer([("/a/.wh.x", .file), ("/a/.wh.y", .file)]),
        ]
        func fate(_ path: String, _ layer: Int) -> String {
            guard let f = Overlay.fate(of: path, ancestors: LayerPath.ancestors(path), in: layer, under: layers) else { return "present" }
            return "\(f.fate) \(f.layer)"
        }
        #expect(fate("/a/x", 0) == "overwritten 2")
        #expect(fate("/a/y", 0) == "deleted 3")
        #expect(fate("/a/x", 2) == "deleted 3")
        #expect(fate("/b", 1) == "present", "only later layers count")
        #expect(fate("/a/x", 3) == "present", "the top layer has nothing above it")
    }

    /// Many paths in one pass give what each gives alone, whichever of the layer's paths or the paths asked about
    /// are fewer.
    @Test func manyPathsAtOnceAsEachAlone() {
        let pool: [(String, Kind)] = [
            ("/a/.wh.x", .file), ("/.wh.a", .file), ("/a/.wh..wh..opq", .file), ("/a/x", .file), ("/a/x", .dir), ("/a", .file),
            ("/a", .dir), ("/a/x/y", .file), ("/b/y", .file), ("/b/.wh.y", .file), ("/c", .symlink), ("/c/d/e", .file),
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let layers = (0..<5).map { _ in Layer(pool.filter { _ in Bool.random(using: &generator) }) }
            let asked = ["/a/x", "/a/x/y", "/a/y", "/b/y", "/c/d/e", "/c", "/a"]
            var places: [(path: String, ancestors: [String], layer: Int)] = []
            for path in asked { for layer in 0..<5 { places.append((path, LayerPath.ancestors(path), layer)) } }
            let together = Overlay.fates(of: places, under: layers).map { $0.map { "\($0.fate) \($0.layer)" } }
            let alone = places.map { p in Overlay.fate(of: p.path, ancestors: p.ancestors, in: p.layer, under: layers).map { "\($0.fate) \($0.layer)" } }
            #expect(together == alone, "\(layers.map { $0.entries.map(\.description) + $0.whiteouts.map(\.marker) + $0.opaques.map(\.marker) })")
            // Many more paths asked than the layers name: the layers' own paths are walked instead.
            let many = places + (0..<200).map { ("/z/\($0)", ["/z", "/"], 0) }
            #expect(Overlay.fates(of: many, under: layers).prefix(places.count).map { $0.map { "\($0.fate) \($0.layer)" } } == alone)
        }
    }

    /// A directory replaced by a file and back: what the directory held is deleted by the file, and the file is
    /// overwritten by the directory.
    @Test func aDirectoryReplacedByAFileAndBack() {
        let layers = [Layer([("/d", .dir), ("/d/f", .file)]), Layer([("/d", .file)]), Layer([("/d", .dir), ("/d/f", .file)])]
        #expect(Overlay.fate(of: "/d/f", ancestors: ["/d", "/"], in: 0, under: layers).map { "\($0.fate) \($0.layer)" } == "deleted 1")
        #expect(Overlay.fate(of: "/d", ancestors: ["/"], in: 1, under: layers).map { "\($0.fate) \($0.layer)" } == "overwritten 2")

        var tree = Overlay.Tree<Entry>()
        apply(&tree, 0, layers[0])
        let one = apply(&tree, 1, layers[1])
        #expect(one.removals.map { "\($0.entry) @\($0.layer) via \($0.via ?? "-")" } == ["/d/f file @0 via /d"])
        #expect(state(tree) == ["/d file @1"])
        let two = apply(&tree, 2, layers[2])
        #expect(two.removals.map { "\($0.entry) @\($0.layer) via \($0.via ?? "-")" } == ["/d file @1 via -"])
        #expect(two.entries.map { "\($0.entry.path) \($0.existedBelow)" } == ["/d true", "/d/f false"], "/d/f went with the file of layer 1")
        #expect(state(tree) == ["/d dir @2", "/d/f file @2"])
    }

    /// Links are entries like files: a whiteout of a hard link's target leaves the link (and its data), and a
    /// symlink to a directory is replaced by the directory an entry under it needs.
    @Test func linksAreNotFollowed() {
        let lower = Layer([("/bin/a", .file), ("/bin/b", .hardlink), ("/lib", .symlink)])
        #expect(Self.fate(of: "/bin/b", under: [("/bin/.wh.a", .file)]) == nil)
        #expect(Self.fate(of: "/lib", under: [("/lib/x.so", .file)]) == .deleted)

        var tree = Overlay.Tree<Entry>()
        apply(&tree, 0, lower)
        let changes = apply(&tree, 1, Layer([("/bin/.wh.a", .file), ("/lib/x.so", .file)]))
        #expect(Set(changes.removals.map { "\($0.entry) via \($0.via ?? "-")" }) == ["/bin/a file via /bin/.wh.a", "/lib symlink via /lib/x.so"])
        #expect(state(tree) == ["/bin/b hardlink @0", "/lib/x.so file @1"])
    }

    // MARK: the whole filesystem (the inspector's form)

    func state(_ tree: Overlay.Tree<Entry>) -> [String] {
        var out: [String] = []
        tree.forEachEntryInPathOrder { e, node in out.append("\(e) @\(node.layer)") }
        return out
    }

    @discardableResult
    func apply(_ tree: inout Overlay.Tree<Entry>, _ index: Int, _ layer: Layer) -> Overlay.Changes<Entry> {
        tree.apply(layer: index, opaques: layer.opaques, whiteouts: layer.whiteouts, entries: layer.entries)
    }

    /// Whiteouts and opaque markers remove from the layers below only, whatever their place in the tar: a path
    /// whited out under an opaque directory of the same layer, and put back by it, is there.
    @Test func aLayersMarkersNeverRemoveItsOwnEntries() {
        var tree = Overlay.Tree<Entry>()
        apply(&tree, 0, Layer([("/a", .dir), ("/a/x", .file), ("/a/y", .file), ("/b", .file)]))
        let changes = apply(&tree, 1, Layer([("/a/x", .file), ("/a/.wh..wh..opq", .file), ("/a/.wh.x", .file), ("/b", .file), ("/.wh.b", .file)]))
        #expect(state(tree) == ["/a dir @0", "/a/x file @1", "/b file @1"])
        // The opaque marker comes first and takes /a/x; the whiteout then finds nothing left to remove.
        #expect(Set(changes.removals.map { "\($0.entry) via \($0.via ?? "-")" })
            == ["/a/x file via /a/.wh..wh..opq", "/a/y file via /a/.wh..wh..opq", "/b file via /.wh.b"])
        #expect(changes.entries.map { "\($0.entry.path) \($0.existedBelow)" } == ["/a/x true", "/b true"], "removed below, then put back")
    }

    @Test func aFileOverADirectoryRemovesWhatItHeldAndAnEntryUnderAFileReplacesIt() {
        var tree = Overlay.Tree<Entry>()
        apply(&tree, 0, Layer([("/d", .dir), ("/d/f", .file), ("/g", .file), ("/usr/lib/x", .file)]))
        #expect(tree.exists("/usr") && tree.exists("/usr/lib"), "directories no tar names exist through what is under them")
        let changes = apply(&tree, 1, Layer([("/d", .symlink), ("/g/h", .file), ("/usr", .dir)]))
        #expect(state(tree) == ["/d symlink @1", "/g/h file @1", "/usr dir @1", "/usr/lib/x file @0"])
        #expect(Set(changes.removals.map { "\($0.entry) via \($0.via ?? "-")" }) == ["/d/f file via /d", "/g file via /g/h"])
        #expect(changes.entries.map(\.existedBelow) == [true, false, true], "an implied directory existed below")
    }

    /// The two forms agree: for every set of events of one layer drawn from a pool that touches `/a/x` in each way
    /// the rules know, the tree removes the lower file exactly when `fate` says so, and in the same way (a
    /// replacement is an overwrite, a removal with a cause a deletion) unless the layer both writes the path and
    /// needs it or an ancestor as a directory, where the tree reports what comes first in tar order.
    @Test func theTreeAndTheOnePathFormAgree() {
        let pool: [(String, Kind)] = [
            ("/a/.wh.x", .file), ("/.wh.a", .file), ("/a/.wh..wh..opq", .file), ("/a/x/.wh..wh..opq", .file),
            ("/a/x", .file), ("/a/x", .dir), ("/a", .file), ("/a", .dir), ("/a/x/y", .file), ("/a/y", .file), ("/a/.wh.y", .file),
            ("/a/x", .hardlink),
        ]
        var compared = 0
        for mask in 0..<(1 << pool.count) {
            let names = pool.indices.filter { mask & (1 << $0) != 0 }.map { pool[$0] }
            let upper = Layer(names)
            var tree = Overlay.Tree<Entry>()
            apply(&tree, 0, Layer([("/a", .dir), ("/a/x", .file)]))
            let removal = apply(&tree, 1, upper).removals.first { $0.layer == 0 && $0.entry.path == "/a/x" }
            let fromTree: Overlay.Fate? = removal.map { $0.via == nil ? .overwritten : .deleted }
            let fromRule = Overlay.fate(of: "/a/x", ancestors: ["/a", "/"], in: upper)
            let named = Overlay.touches("/a/x", in: upper) || ["/a", "/"].contains { Overlay.deletesBelow($0, in: upper) }
            #expect(named == (fromRule != nil), "\(names): what fates looks at is what fate decides on")
            let ordered = upper.entryIsDirectory("/a/x") != nil && (upper.holdsEntries(under: "/a/x") || upper.entryIsDirectory("/a") == false)
            if ordered {
                #expect((fromTree == nil) == (fromRule == nil), "\(names)")
            } else {
                #expect(fromTree == fromRule, "\(names)")
            }
            compared += 1
        }
        #expect(compared == 1 << pool.count)
    }

    /// A hostile path thousands of components deep costs the tree nodes in proportion to its length.
    @Test func aDeepPathIsAppliedAndRemovedWithoutRecursion() {
        let deep = "/" + Array(repeating: "d", count: 20_000).joined(separator: "/")
        var tree = Overlay.Tree<Entry>()
        apply(&tree, 0, Layer([(deep + "/f", .file)]))
        #expect(tree.nodes.count == 20_002)
        let changes = apply(&tree, 1, Layer([("/.wh.d", .file)]))
        #expect(changes.removals.map(\.entry.path) == [deep + "/f"])
        #expect(!tree.exists("/d"))
    }
}
