// swift-tools-version: 6.0
// Coverage-guided fuzz targets for Kino (libFuzzer + AddressSanitizer). Build and run with
// `make fuzz` from the repository root; see README.md here. Kept out of the main package so the
// normal build and `make test` never need -sanitize=fuzzer.
import PackageDescription

let fuzzTargets: [(name: String, products: [String])] = [
    ("FuzzSafeTensors", ["KinoTensor"]),
    ("FuzzModelConfig", ["KinoModels", "KinoTensor"]),
    ("FuzzPipeline", ["KinoGraph"]),
    ("FuzzProbe", ["KinoMedia"]),
    ("FuzzDecode", ["KinoMedia"]),
]

let package = Package(
    name: "KinoFuzz",
    platforms: [.macOS(.v14)],
    products: fuzzTargets.map { .executable(name: $0.name, targets: [$0.name]) },
    dependencies: [.package(name: "Kino", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
    ] + fuzzTargets.map { target in
        // libFuzzer supplies main(); the Swift file only defines LLVMFuzzerTestOneInput, so it
        // must be compiled as a library file (no top-level code, no @main).
        .executableTarget(
            name: target.name,
            dependencies: ["FuzzSupport"] + target.products.map { .product(name: $0, package: "Kino") },
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    }
)
