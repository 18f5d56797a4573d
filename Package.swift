// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Kino",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kino", targets: ["kino"]),
        .library(name: "KinoFiles", targets: ["KinoFiles"]),
        .library(name: "KinoMedia", targets: ["KinoMedia"]),
        .library(name: "KinoDSP", targets: ["KinoDSP"]),
        .library(name: "KinoTensor", targets: ["KinoTensor"]),
        .library(name: "KinoGraph", targets: ["KinoGraph"]),
        .library(name: "KinoWatch", targets: ["KinoWatch"]),
        .library(name: "KinoNN", targets: ["KinoNN"]),
        .library(name: "KinoOptim", targets: ["KinoOptim"]),
        .library(name: "KinoModels", targets: ["KinoModels"]),
        .library(name: "KinoTrain", targets: ["KinoTrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
    ],
    targets: [
        // C bridges: headers plus static inline wrappers of macros, nothing else.
        .systemLibrary(
            name: "CFFmpeg", path: "Sources/CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]
        ),
        .systemLibrary(
            name: "CSndFile", path: "Sources/CSndFile",
            pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS",
            pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]
        ),

        // Whole-or-absent writes and plain file-system messages, below everything else.
        .target(name: "KinoFiles"),
        .target(name: "KinoTensor", dependencies: ["COpenBLAS", "KinoFiles"]),
        .target(name: "KinoMedia", dependencies: ["CFFmpeg", "CSndFile", "KinoFiles"]),
        .target(name: "KinoDSP", dependencies: ["KinoTensor", "KinoFiles"]),
        .target(name: "KinoNN", dependencies: ["KinoTensor"]),
        .target(name: "KinoOptim", dependencies: ["KinoNN"]),
        .target(name: "KinoModels", dependencies: ["KinoNN", "KinoFiles"]),
        .target(name: "KinoTrain", dependencies: ["KinoModels", "KinoOptim"]),
        .target(name: "KinoTestSupport", dependencies: ["KinoMedia"]),
        .target(
            name: "KinoGraph",
            dependencies: ["KinoMedia", "KinoDSP", "KinoModels", "KinoFiles", .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "KinoWatch", dependencies: ["KinoGraph", "CSQLite"]),
        .executableTarget(
            name: "kino",
            dependencies: [
                "KinoMedia", "KinoDSP", "KinoGraph", "KinoWatch", "KinoModels", "KinoTensor", "KinoTrain", "KinoFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
            ]
        ),

        .testTarget(name: "KinoMediaTests", dependencies: ["KinoMedia", "KinoTestSupport"]),
        .testTarget(name: "KinoDSPTests", dependencies: ["KinoDSP", "KinoTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "KinoModelsTests", dependencies: ["KinoModels", "KinoTensor"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "KinoTrainTests", dependencies: ["KinoTrain", "KinoModels", "KinoOptim", "KinoNN", "KinoTensor"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "KinoGraphTests", dependencies: ["KinoGraph", "KinoMedia", "KinoDSP", "KinoTestSupport"]),
        .testTarget(name: "KinoFlowTests", dependencies: ["KinoDSP"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KinoCLITests", dependencies: ["KinoMedia", "KinoDSP", "KinoTensor", "KinoModels", "KinoTestSupport", "KinoFiles"]),
        .testTarget(name: "KinoWatchTests", dependencies: ["KinoWatch", "KinoGraph", "KinoTestSupport"]),
    ]
)

// Strict settings for every Swift target, in one place.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
