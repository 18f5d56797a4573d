import Foundation
import KinoModels
import KinoTensor
import Testing

/// Image and clip preprocessing against HF's processors (Pillow resampling); Pillow's
/// fixed-point filter may round a level differently, so a couple of levels are allowed.
@Suite("preprocessing")
struct PreprocessingTests {
    static func image() throws -> RGB8Image {
        let t = try Fixtures.reference("preprocessing").tensor("image")
        return RGB8Image(width: t.shape[1], height: t.shape[0], pixels: t.storage.map { UInt8($0) })
    }

    @Test("ViTImageProcessor: resize to 32×32, rescale, normalise")
    func vit() throws {
        let expected = try Fixtures.reference("preprocessing").tensor("vit_pixel_values")
        let got = ImagePreprocessor(configuration: ImageProcessorConfiguration(imageSize: 32)).pixelValues([try Self.image()])
        let delta = got.maxAbsDifference(expected)
        print("preprocessing ViT: max |Δ| \(delta) (one level = \(2.0 / 255))")
        #expect(delta <= 2 * 2 / 255 + 1e-6)
    }

    @Test("ViViT in HF mode: shortest edge 36, centre crop 32, x/63.75 − 3")
    func vivitHF() throws {
        let expected = try Fixtures.reference("preprocessing").tensor("vivit_hf_pixel_values")
        let pre = VideoPreprocessor(cropSize: 32, shortSide: 36, range: .huggingFace)
        let image = try Self.image()
        let clip = pre.clip([image, image])
        let delta = clip.reshaped([1] + clip.shape).maxAbsDifference(expected)
        print("preprocessing ViViT (hf): max |Δ| \(delta) (one level = \(1 / 63.75))")
        #expect(delta <= 2 / 63.75 + 1e-6)
    }

    @Test("ViViT original recipe maps 0 → −1 and 255 → 1")
    func vivitOriginal() {
        let black = RGB8Image(width: 4, height: 4, pixels: [UInt8](repeating: 0, count: 48))
        let white = RGB8Image(width: 4, height: 4, pixels: [UInt8](repeating: 255, count: 48))
        let clip = VideoPreprocessor(cropSize: 4, range: .original).clip([black, white])
        #expect(clip.shape == [2, 3, 4, 4])
        #expect(clip.storage.prefix(48).allSatisfy { $0 == -1 })
        #expect(clip.storage.suffix(48).allSatisfy { $0 == 1 })
    }
}
