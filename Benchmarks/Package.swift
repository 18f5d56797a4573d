// swift-tools-version: 6.0
// Benchmarks: Kino against its references (the ffmpeg CLI, torchaudio, OpenCV) in one run.
// Build and run in release: `swift run -c release --package-path Benchmarks kino-bench media`.
import PackageDescription

let package = Package(
    name: "KinoBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Kino", path: "..")],
    targets: [
        .executableTarget(
            name: "kino-bench",
            dependencies: [.product(name: "KinoMedia", package: "Kino")],
            path: "Sources/kino-bench"
        ),
        // `swift run -c release --package-path Benchmarks watch-bench [--files N] [--jobs J]`
        .executableTarget(
            name: "watch-bench",
            dependencies: [.product(name: "KinoWatch", package: "Kino"), .product(name: "KinoGraph", package: "Kino")],
            path: "Sources/watch-bench"
        ),
    ]
)
