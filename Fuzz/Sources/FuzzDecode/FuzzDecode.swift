// Fuzz target: a short decode, the first few video frames (scaled) and audio chunks of the input.
import FuzzSupport
import KinoMedia

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecode(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzScratch.write(UnsafeRawBufferPointer(start: data, count: size), as: "input.media")
    guard let info = try? MediaProbe.probe(path, scanPackets: false) else { return 0 }
    if info.video != nil,
       let decoder = try? VideoDecoder(path: path, options: VideoDecodeOptions(width: 32, height: 24, threads: 1)) {
        for _ in 0..<4 {
            guard let frame = try? decoder.nextFrame() else { break }
            _ = frame
        }
    }
    if info.audio != nil, let audio = try? AudioDecoder(path: path, sampleRate: 16000, chunkFrames: 4096) {
        for _ in 0..<3 {
            guard let chunk = try? audio.nextChunk() else { break }
            _ = chunk
        }
    }
    return 0
}
