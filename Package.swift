// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "Stowaway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "stowaway", targets: ["stowaway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // C bridges: module map + shim header, nothing else.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CVectorscan", pkgConfig: "libhs", providers: [.apt(["libvectorscan-dev"])]),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // xz inside layers is decoded here rather than by libarchive, whose xz filter allows 1 GiB of decoder memory.
        .systemLibrary(name: "CLZMA", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),

        // Digests and hashing, byte sources, encodings: what OCI, Layers and Secrets share.
        .target(name: "Core", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "OCI", dependencies: [
            "Core",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .target(name: "Layers", dependencies: ["CArchive", "CISAL", "CZstd", "CLZMA", "Core"]),
        .target(name: "Secrets", dependencies: [
            "Core", "CVectorscan", "CPCRE2",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        // Offline forensics of found secrets: Fly.io macaroon caveats, JWT claims, AWS account ids, checksums.
        .target(name: "Forensics", dependencies: ["Core", .product(name: "Crypto", package: "swift-crypto")]),
        // The report model (findings, their remediation and triage) and its formats: text, JSON, SARIF, progress.
        .target(name: "Reports", dependencies: ["Core", "OCI", "Secrets", "Forensics", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Scan", dependencies: ["Core", "OCI", "Layers", "Secrets", "Forensics", "Reports", .product(name: "Crypto", package: "swift-crypto")]),
        // Target discovery: a registry's catalog and tag lists walked into references, and the Fly Machines API client
        // (what `scan --fly-app` needs without the sweep).
        .target(name: "Discovery", dependencies: [
            "Core", "OCI",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // The nightly sweep: targets from a TOML config, a store of layers, images and findings across runs.
        .target(name: "Sweep", dependencies: [
            "Core", "Discovery", "Reports", "Scan", "OCI", "Secrets",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "TOMLKit", package: "TOMLKit"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The layer inspector: per-layer listings, changes, the merged view, trace, cat, wasted space.
        .target(name: "Inspect", dependencies: ["Core", "OCI", "Layers", "Reports", "Scan", "Secrets"]),
        // The command line as a library (flags, wiring, exit codes), so tests can parse and run commands in-process;
        // the `stowaway` executable's main.swift only calls it.
        .target(name: "StowawayCLI", dependencies: [
            "Core", "Discovery", "Reports", "Scan", "OCI", "Secrets", "Sweep", "Inspect",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "stowaway", dependencies: ["StowawayCLI"]),
        // Builds test and demo images (docker save / OCI layout) from a JSON spec with our own code.
        .target(name: "ImageBuilder", dependencies: [
            "CArchive", "Core", "Layers", "OCI", .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        .executableTarget(name: "stowaway-fixture", dependencies: ["ImageBuilder"]),
        // Benchmark baselines: decompress-and-walk only, and the matcher alone on files in memory.
        .executableTarget(name: "stowaway-bench", dependencies: ["Reports", "Scan", "Layers", "OCI", "Secrets"]),

        .target(name: "TestSupport", dependencies: ["Secrets", .product(name: "Crypto", package: "swift-crypto")], path: "Tests/TestSupport"),
        .testTarget(name: "SecretsTests", dependencies: ["Secrets", "TestSupport"]),
        .testTarget(name: "LayersTests", dependencies: ["Core", "Layers", "OCI", "ImageBuilder", "TestSupport"]),
        .testTarget(name: "ScanTests", dependencies: ["Core", "Reports", "Scan", "Layers", "OCI", "Secrets", "ImageBuilder", "TestSupport"]),
        .testTarget(name: "OCITests", dependencies: ["Core", "OCI", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: [
            "StowawayCLI", "Reports", "Scan", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "ForensicsTests", dependencies: ["Forensics", "TestSupport"]),
        .testTarget(name: "DiscoveryTests", dependencies: ["Discovery"]),
        .testTarget(name: "InspectTests", dependencies: ["Inspect", "Layers", "OCI", "Secrets", "ImageBuilder", "TestSupport"]),
        // Against real registries on 127.0.0.1 started by `make test` (testdata/registry/harness.py).
        .testTarget(name: "RegistryTests", dependencies: ["OCI", "ImageBuilder", "TestSupport"]),
        // The store and config alone, and `stowaway sweep` against the harness registries (with STOWAWAY_REGISTRY).
        .testTarget(name: "SweepTests", dependencies: ["Core", "Reports", "Sweep", "Scan", "OCI", "Secrets", "ImageBuilder", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

// Our own targets treat every warning as an error (dependencies keep their own settings).
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.treatAllWarnings(as: .error)]
}
