// Fuzz target: the safetensors reader (header validation, mapping, every tensor's conversion).
import FuzzSupport
import KinoTensor

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzScratch.write(UnsafeRawBufferPointer(start: data, count: size), as: "input.safetensors")
    guard let file = try? SafeTensorsFile(path: path) else { return 0 }
    for name in file.names {
        _ = file.shape(of: name)
        if let tensor = try? file.tensor(name) {
            precondition(tensor.count == file.shape(of: name)!.reduce(1, *), "tensor \(name) has the wrong element count")
        }
    }
    return 0
}
