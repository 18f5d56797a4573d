// swift-tools-version: 6.0
import PackageDescription

// Benchmarks live outside the main package so timing code never ships in `kino`.
let package = Package(
    name: "KinoBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Kino", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "fbank-bench",
            dependencies: [.product(name: "KinoDSP", package: "Kino")]
        ),
    ]
)
