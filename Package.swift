// swift-tools-version:6.0
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
    ],
    targets: [
        // C bridges: module map + shim header, nothing else.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CVectorscan", pkgConfig: "libhs", providers: [.apt(["libvectorscan-dev"])]),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),

        .target(name: "OCI", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Layers", dependencies: ["CArchive", "OCI", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Secrets", dependencies: ["CVectorscan", "CPCRE2", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Scan", dependencies: ["OCI", "Layers", "Secrets"]),
        .executableTarget(name: "stowaway", dependencies: [
            "Scan", "OCI", "Secrets",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Builds test and demo images (docker save / OCI layout) from a JSON spec with our own code.
        .target(name: "ImageBuilder", dependencies: ["Layers", "OCI"]),
        .executableTarget(name: "stowaway-fixture", dependencies: ["ImageBuilder"]),
        // Benchmark baselines: decompress-and-walk only, and the matcher alone on files in memory.
        .executableTarget(name: "stowaway-bench", dependencies: ["Scan", "OCI", "Secrets"]),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SecretsTests", dependencies: ["Secrets", "TestSupport"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "OCI", "ImageBuilder", "TestSupport"]),
        .testTarget(name: "ScanTests", dependencies: ["Scan", "Layers", "OCI", "Secrets", "ImageBuilder", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
