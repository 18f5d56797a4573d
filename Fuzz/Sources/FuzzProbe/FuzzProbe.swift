// Fuzz target: MediaProbe.probe, with and without the packet scan, on arbitrary bytes.
import FuzzSupport
import KinoMedia

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProbe(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzScratch.write(UnsafeRawBufferPointer(start: data, count: size), as: "input.media")
    _ = try? MediaProbe.probe(path, scanPackets: false)
    _ = try? MediaProbe.probe(path, scanPackets: true)
    return 0
}
