import ArgumentParser
import Reports
import Scan

/// How far a scan looks inside archives found in layers: the same flags for `scan` and `sweep`.
struct ArchiveOptions: ParsableArguments {
    @Flag(help: "Do not look inside archives found in layers (jar, war, zip, wheel, tar, tar.gz, .gz, ...): scan them as bytes.")
    var noArchives = false
    @Option(help: "Archive levels opened below a file of a layer.") var archiveDepth = ScanOptions().archiveLimits.maxDepth
    @Option(help: ArgumentHelp("Uncompressed bytes read from the archives of one file of a layer.", valueName: "BYTES"))
    var archiveMaxBytes = ByteSize(ScanOptions().archiveLimits.maxBytesPerFile)
    @Option(help: ArgumentHelp("Uncompressed bytes read from archives in one layer.", valueName: "BYTES"))
    var archiveLayerBytes = ByteSize(ScanOptions().archiveLimits.maxBytesPerLayer)
    @Option(help: ArgumentHelp("Uncompressed bytes read from archives in all the layers of one scan together.",
                               valueName: "BYTES"))
    var archiveImageBytes = ByteSize(ScanOptions().archiveLimits.maxBytesPerImage)
    @Option(help: "Archive members read in one file of a layer, every level together.")
    var archiveMaxMembers = ScanOptions().archiveLimits.maxMembersPerFile
    @Option(help: "Compression ratio past which an archive is left as a bomb (0: no check).")
    var archiveMaxRatio = ScanOptions().archiveLimits.maxRatio

    func validate() throws {
        if !(0...64).contains(archiveDepth) { throw ValidationError("--archive-depth must be between 0 and 64") }
        if archiveMaxMembers < 0 { throw ValidationError("--archive-max-members must not be negative") }
        if archiveMaxRatio < 0 { throw ValidationError("--archive-max-ratio must not be negative") }
    }

    /// Sets the archive walk of `options` from the flags.
    func apply(to options: inout ScanOptions) {
        options.archives = !noArchives
        options.archiveLimits.maxDepth = archiveDepth
        options.archiveLimits.maxBytesPerFile = archiveMaxBytes.bytes
        options.archiveLimits.maxBytesPerLayer = archiveLayerBytes.bytes
        options.archiveLimits.maxBytesPerImage = archiveImageBytes.bytes
        options.archiveLimits.maxMembersPerFile = archiveMaxMembers
        options.archiveLimits.maxRatio = archiveMaxRatio
    }
}

/// A byte count on the command line: `1048576`, `512K`, `64M`, `1G` (powers of 1024).
struct ByteSize: ExpressibleByArgument, CustomStringConvertible {
    var bytes: Int64

    init(_ bytes: Int64) { self.bytes = bytes }

    init?(argument: String) {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var text = Substring(argument.uppercased())
        if text.hasSuffix("B") { text = text.dropLast() }
        var scale: Int64 = 1
        if let last = text.last, let u = units[last] {
            scale = u
            text = text.dropLast()
        }
        guard let n = Int64(text), n >= 0 else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        bytes = v
    }

    var description: String {
        for (suffix, u) in [("G", Int64(1) << 30), ("M", 1 << 20), ("K", 1 << 10)] where bytes >= u && bytes % u == 0 {
            return "\(bytes / u)\(suffix)"
        }
        return "\(bytes)"
    }

    var defaultValueDescription: String { description }
}
