#ifndef KINO_COPENBLAS_SHIM_H
#define KINO_COPENBLAS_SHIM_H
#include <cblas.h>
#if defined(__GLIBC__)
#include <malloc.h>
/// Keeps freed blocks up to `bytes` in the heap (mmap and trim thresholds), so per-step tensor
/// buffers are reused instead of faulted in afresh. Returns 1 on success.
static inline int kino_keep_freed_buffers(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes) && mallopt(M_TRIM_THRESHOLD, bytes);
}
#else
static inline int kino_keep_freed_buffers(int bytes) { (void)bytes; return 0; }
#endif
#endif
