// swift-tools-version:6.0
import PackageDescription

/// Kernels are compiled for the host's vector units only where a target asks for it;
/// every such function is dispatched at run time, so the binary still starts (and
/// says what it lacks) on an older CPU.
let package = Package(
    name: "fusectl",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "NpyIO", targets: ["NpyIO"]),
        .library(name: "Fusion", targets: ["Fusion"]),
        .library(name: "Heatmap", targets: ["Heatmap"]),
        .executable(name: "fusectl", targets: ["fusectl"]),
        // The C interface (Sources/FusectlC/include/fusectl.h) as libfusectl-c.so, for the Python package.
        .library(name: "fusectl-c", type: .dynamic, targets: ["FusectlC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // zlib from Debian's libz-dev (zlib1g-dev): inflate/deflate and its fast CRC-32.
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["libz-dev"])]
        ),
        // libdeflate from Debian's libdeflate-dev: its CRC-32 (PCLMULQDQ, about 10 GB/s on one core,
        // 2.5× zlib's) is CRCFold's fallback and handles its short buffers and tails.
        .systemLibrary(
            name: "CDeflate",
            path: "Sources/CDeflate",
            pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]
        ),
        // CRC-32 folded 256 bytes a step with AVX-512 VPCLMULQDQ where the CPU has it (one core
        // then keeps up with memory), libdeflate otherwise.
        .target(name: "CRCFold", dependencies: ["CDeflate"], linkerSettings: [.linkedLibrary("deflate")]),
        .target(name: "NpyIO", dependencies: ["CZlib", "CRCFold"]),
        // Compute kernels in C: one source per op, each compiled for AVX-512, AVX2+FMA and
        // portable scalar code through function-level target attributes, chosen at run time.
        // Optimised even in debug builds so that tests of the fast path run at useful speed.
        .target(
            name: "FusionKernels",
            cSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("m")]
        ),
        .target(name: "Fusion", dependencies: ["NpyIO", "FusionKernels"]),
        // The C interface: @_cdecl functions over Fusion, no Foundation; its header is include/fusectl.h.
        // -static-stdlib: the Swift runtime linked into libfusectl-c.so (swift build's --static-swift-stdlib
        // applies to executables only), its symbols kept inside (--exclude-libs); $ORIGIN: the Python package
        // ships zlib and libdeflate beside it.
        .target(
            name: "FusectlC", dependencies: ["Fusion", "NpyIO"], exclude: ["include"],
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-Xlinker", "-rpath=$ORIGIN", "-Xlinker", "--exclude-libs=ALL"], .when(platforms: [.linux]))]
        ),
        .executableTarget(name: "kernels-bench", dependencies: ["FusionKernels"]),
        .target(name: "Heatmap", dependencies: ["CZlib"]),
        // Batches as files: input/output file sets, manifests, shards, resumable runs.
        .target(name: "FusionJobs", dependencies: ["NpyIO", "Fusion", "Heatmap"]),
        .executableTarget(
            name: "fusectl",
            dependencies: [
                "NpyIO", "Fusion", "FusionJobs", "Heatmap",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "TestSupport", dependencies: ["NpyIO"], path: "Tests/TestSupport"),
        .testTarget(name: "NpyIOTests", dependencies: ["NpyIO", "TestSupport", "CZlib", "CRCFold"]),
        .testTarget(name: "FusionTests", dependencies: ["Fusion", "NpyIO", "TestSupport"]),
        .testTarget(name: "FusionKernelsTests", dependencies: ["FusionKernels"]),
        .testTarget(name: "FusectlCLITests", dependencies: ["NpyIO", "TestSupport"]),
        .testTarget(name: "FusionJobsTests", dependencies: ["FusionJobs", "Fusion", "NpyIO"]),
        .testTarget(name: "HeatmapTests", dependencies: ["Heatmap", "CZlib", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
