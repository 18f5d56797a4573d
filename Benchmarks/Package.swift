// swift-tools-version: 6.0
// Benchmarks: Kino against its references (the ffmpeg CLI, torchaudio, OpenCV, PyTorch) in one run.
// They live outside the main package so timing code never ships in `kino` nor slows its build.
// Build in release: `swift build -c release --package-path Benchmarks`.
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
        .executableTarget(
            name: "fbank-bench",
            dependencies: [.product(name: "KinoDSP", package: "Kino")]
        ),
        // Optical flow (DIS) timing server driven by Benchmarks/flow_bench.py.
        .executableTarget(
            name: "flow-bench",
            dependencies: [.product(name: "KinoDSP", package: "Kino")],
            path: "Sources/flow-bench"
        ),
        // `swift run -c release --package-path Benchmarks watch-bench [--files N] [--jobs J]`
        .executableTarget(
            name: "watch-bench",
            dependencies: [.product(name: "KinoWatch", package: "Kino"), .product(name: "KinoGraph", package: "Kino")],
            path: "Sources/watch-bench"
        ),
        .executableTarget(
            name: "model-bench",
            dependencies: [.product(name: "KinoModels", package: "Kino"), .product(name: "KinoTensor", package: "Kino")]
        ),
        // Training steps (forward, backward, AdamW), driven by Benchmarks/train_bench.py.
        .executableTarget(
            name: "train-bench",
            dependencies: [.product(name: "KinoModels", package: "Kino"), .product(name: "KinoOptim", package: "Kino"),
                           .product(name: "KinoTensor", package: "Kino")],
            path: "Sources/train-bench"
        ),
        // Graph overhead: `Benchmarks/.build/release/graph-bench [--packets N] [--repeats R]`.
        .executableTarget(
            name: "graph-bench",
            dependencies: [.product(name: "KinoGraph", package: "Kino"), .product(name: "KinoMedia", package: "Kino")],
            path: "Sources/graph-bench"
        ),
    ]
)
