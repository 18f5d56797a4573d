import Foundation
import KinoDSP

/// The synthetic ground-truth pairs written by `tools/make-flow-fixtures.py`, with OpenCV's EPE.
struct FlowFixture {
    struct Manifest: Decodable {
        let width: Int
        let height: Int
        let opencv: String
        let scenes: [String: [String: Double]]
    }

    let name: String
    let i0: GrayImage
    let i1: GrayImage
    let truth: FlowField
    let valid: [Bool]
    /// OpenCV DIS's EPE per preset name, and "zero" for the zero field.
    let reference: [String: Double]

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static let manifest: Manifest = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try! JSONDecoder().decode(Manifest.self, from: data)
    }()

    static var sceneNames: [String] { manifest.scenes.keys.sorted() }

    static func load(_ name: String) throws -> FlowFixture {
        let m = manifest
        func bytes(_ suffix: String) throws -> [UInt8] {
            [UInt8](try Data(contentsOf: directory.appendingPathComponent("\(name).\(suffix)")))
        }
        let flowBytes = try bytes("flow.f32")
        let floats = flowBytes.withUnsafeBytes { raw in
            (0..<(flowBytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.load(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return FlowFixture(
            name: name,
            i0: try GrayImage(width: m.width, height: m.height, bytes: try bytes("i0.u8")),
            i1: try GrayImage(width: m.width, height: m.height, bytes: try bytes("i1.u8")),
            truth: try FlowField(width: m.width, height: m.height, uv: floats),
            valid: try bytes("valid.u8").map { $0 != 0 },
            reference: m.scenes[name]!)
    }
}
