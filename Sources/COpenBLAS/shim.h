#ifndef KINO_COPENBLAS_SHIM_H
#define KINO_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
