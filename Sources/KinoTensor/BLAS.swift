import COpenBLAS

/// Process-wide OpenBLAS settings.
///
/// Kino keeps OpenBLAS single-threaded and parallelises across frames, clips or heads itself:
/// on two cores OpenBLAS's own threads gain little on mid-sized products and collapse under load.
public enum BLAS {
    /// Sets OpenBLAS to one thread. Call once before any matrix work; idempotent.
    public static func useSingleThread() {
        openblas_set_num_threads(1)
    }

    /// The number of threads OpenBLAS will use.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }
}
