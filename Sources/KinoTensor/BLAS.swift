import COpenBLAS

/// Process-wide OpenBLAS settings.
///
/// Kino keeps OpenBLAS single-threaded and parallelises across frames, clips or heads itself:
/// on two cores OpenBLAS's own threads gain little on mid-sized products and collapse under load.
public enum BLAS {
    /// Sets OpenBLAS to one thread and keeps freed large buffers in the heap. Call once before any
    /// matrix work; idempotent.
    ///
    /// A forward or training step allocates each activation afresh (values, not reused scratch:
    /// that is what lets a tape keep them). glibc serves blocks over its mmap threshold with fresh
    /// pages and returns them on free, so every step would pay a page fault per 4 KiB of activations
    /// (measured: ViT-B on 8 frames 10 % slower). Raising the mmap and trim thresholds lets freed
    /// activation buffers be reused instead.
    public static func useSingleThread() {
        openblas_set_num_threads(1)
        _ = kino_keep_freed_buffers(1 << 30)
    }

    /// The number of threads OpenBLAS will use.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }
}
