import CFFmpeg

/// Sample-rate, format and channel conversion to interleaved Float32 with libswresample.
final class Resampler {
    private var context: OpaquePointer?
    private let outputChannels: Int
    private let outputRate: Int
    private let inputRate: Int
    private let path: String
    private var scratch: [Float] = []

    init(inputRate: Int, inputLayout: AVChannelLayout, inputFormat: AVSampleFormat,
         outputRate: Int, outputChannels: Int, path: String) throws {
        self.outputChannels = outputChannels
        self.outputRate = outputRate
        self.inputRate = inputRate
        self.path = path
        var inLayout = inputLayout
        var outLayout = AVChannelLayout()
        if outputChannels == inputLayout.nb_channels {
            av_channel_layout_copy(&outLayout, &inLayout)
        } else {
            av_channel_layout_default(&outLayout, Int32(outputChannels))
        }
        var ctx: OpaquePointer? = nil
        try FF.check(swr_alloc_set_opts2(&ctx, &outLayout, AV_SAMPLE_FMT_FLT, Int32(outputRate),
                                         &inLayout, inputFormat, Int32(inputRate), 0, nil),
                     "configuring the resampler", path: path)
        context = ctx
        try FF.check(swr_init(ctx), "starting the resampler", path: path)
    }

    deinit { swr_free(&context) }

    /// Converts a block and appends the interleaved output to `out`.
    func convert(_ block: AudioBlock, into out: inout [Float]) throws {
        let capacity = Int(swr_get_out_samples(context, Int32(block.frames))) + 32
        try run(input: block.planes, frames: block.frames, capacity: capacity, into: &out)
    }

    /// Drains the samples the resampler still holds.
    func flush(into out: inout [Float]) throws {
        let capacity = Int(swr_get_out_samples(context, 0)) + 32
        try run(input: nil, frames: 0, capacity: capacity, into: &out)
    }

    private func run(input: [UnsafePointer<UInt8>?]?, frames: Int, capacity: Int, into out: inout [Float]) throws {
        if scratch.count < capacity * outputChannels { scratch = [Float](repeating: 0, count: capacity * outputChannels) }
        let produced: Int32 = scratch.withUnsafeMutableBufferPointer { buf in
            var outPlane: UnsafeMutablePointer<UInt8>? = UnsafeMutableRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self)
            if var planes = input {
                return planes.withUnsafeMutableBufferPointer { p in
                    swr_convert(context, &outPlane, Int32(capacity), p.baseAddress, Int32(frames))
                }
            }
            return swr_convert(context, &outPlane, Int32(capacity), nil, 0)
        }
        if produced < 0 { throw FF.error(produced, "resampling audio", path: path) }
        out.append(contentsOf: scratch[0..<Int(produced) * outputChannels])
    }
}
