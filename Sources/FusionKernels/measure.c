// fk_measure_gemm_gflops: the packed GEMM kernel's own rate on this CPU, for the cost model.
#include "internal/fk_internal.h"

#include <stdlib.h>
#include <time.h>

static double fk_now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double fk_measure_gemm_gflops(double seconds) {
    if (!(seconds > 0)) fk_fail(__func__, "seconds = %g must be positive", seconds);
    // 96 rows × 256 → 256 with a packed weight: 288 KiB in all, resident in L2, as the engine's
    // blocked GEMMs keep their operands.
    enum { rows = 96, in = 256, out = 256 };
    float *x = NULL, *w = NULL, *packed = NULL, *y = NULL;
    if (posix_memalign((void **)&x, 64, rows * in * sizeof(float)) != 0 ||
        posix_memalign((void **)&w, 64, out * in * sizeof(float)) != 0 ||
        posix_memalign((void **)&packed, 64, (size_t)fk_gemm_packed_count(in, out) * sizeof(float)) != 0 ||
        posix_memalign((void **)&y, 64, rows * out * sizeof(float)) != 0)
        fk_fail(__func__, "cannot allocate the measurement's buffers");
    for (ptrdiff_t i = 0; i < rows * in; i++) x[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
    for (ptrdiff_t i = 0; i < out * in; i++) w[i] = (float)((i * 104729) % 1000) * 1e-3f - 0.5f;
    fk_gemm_pack_oi(w, in, out, in, packed);
    fk_gemm(x, in, packed, in, out, NULL, FK_ACT_NONE, y, out, 0, rows, 0, out);  // warm-up
    double best = 0;
    const double end = fk_now_seconds() + seconds;
    do {
        const double start = fk_now_seconds();
        for (int repeat = 0; repeat < 8; repeat++)
            fk_gemm(x, in, packed, in, out, NULL, FK_ACT_NONE, y, out, 0, rows, 0, out);
        const double rate = 8.0 * 2.0 * rows * in * out / (fk_now_seconds() - start) / 1e9;
        if (rate > best) best = rate;
    } while (fk_now_seconds() < end);
    free(x);
    free(w);
    free(packed);
    free(y);
    return best;
}
