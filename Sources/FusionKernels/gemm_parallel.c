// fk_gemm_parallel and fk_gemm_unpacked_parallel: the GEMMs over a grid of output
// blocks run on a pool; parallel packing.
#include "internal/fk_internal.h"

/// Output columns per task (eight 16-column panels, two register tiles).
#define FK_PAR_COLUMNS 128

typedef struct {
    const float *x, *packed, *bias;
    float *y;
    ptrdiff_t ldx, ldy, in, out, rows, col_blocks, row_blocks;
    fk_activation act;
    ptrdiff_t ldw;  // > 0: `packed` is an unpacked (out × in) weight for fk_gemm_unpacked
} fk_gemm_job;

static void fk_gemm_block(void *ctx, ptrdiff_t task, int worker) {
    (void)worker;
    const fk_gemm_job *j = ctx;
    const ptrdiff_t cb = task % j->col_blocks, rb = task / j->col_blocks;
    const ptrdiff_t c0 = cb * FK_PAR_COLUMNS;
    const ptrdiff_t c1 = c0 + FK_PAR_COLUMNS < j->out ? c0 + FK_PAR_COLUMNS : j->out;
    const ptrdiff_t r0 = j->rows * rb / j->row_blocks, r1 = j->rows * (rb + 1) / j->row_blocks;
    if (j->ldw > 0)
        fk_gemm_unpacked(j->x, j->ldx, j->packed, j->ldw, j->in, j->out, j->bias, j->act, j->y,
                         j->ldy, r0, r1, c0, c1);
    else
        fk_gemm(j->x, j->ldx, j->packed, j->in, j->out, j->bias, j->act, j->y, j->ldy, r0, r1, c0, c1);
}

static void fk_gemm_grid(fk_pool *pool, const float *x, ptrdiff_t ldx, const float *weight,
                         ptrdiff_t ldw, ptrdiff_t in, ptrdiff_t out, const float *bias,
                         fk_activation act, float *y, ptrdiff_t ldy, ptrdiff_t rows) {
    const ptrdiff_t threads = fk_pool_threads(pool);
    const ptrdiff_t col_blocks = (out + FK_PAR_COLUMNS - 1) / FK_PAR_COLUMNS;
    ptrdiff_t row_blocks = 1;
    if (col_blocks < 2 * threads) {
        row_blocks = (2 * threads + col_blocks - 1) / col_blocks;
        if (row_blocks > rows) row_blocks = rows;
    }
    fk_gemm_job job = {x, weight, bias, y, ldx, ldy, in, out, rows, col_blocks, row_blocks, act, ldw};
    fk_pool_run(pool, col_blocks * row_blocks, fk_gemm_block, &job);
}

void fk_gemm_parallel(fk_pool *pool, const float *x, ptrdiff_t ldx, const float *packed,
                      ptrdiff_t in, ptrdiff_t out, const float *bias, fk_activation act, float *y,
                      ptrdiff_t ldy, ptrdiff_t rows) {
    FK_CHECK_ALIGNED(x);
    FK_CHECK_ALIGNED(packed);
    FK_CHECK_ALIGNED(bias);
    FK_CHECK_ALIGNED(y);
    if (rows < 0) fk_fail(__func__, "rows = %td is negative", rows);
    if (out < 1) fk_fail(__func__, "out = %td must be at least 1", out);
    if (rows == 0) return;
    fk_gemm_grid(pool, x, ldx, packed, 0, in, out, bias, act, y, ldy, rows);
}

void fk_gemm_unpacked_parallel(fk_pool *pool, const float *x, ptrdiff_t ldx, const float *w,
                               ptrdiff_t ldw, ptrdiff_t in, ptrdiff_t out, const float *bias,
                               fk_activation act, float *y, ptrdiff_t ldy, ptrdiff_t rows) {
    FK_CHECK_ALIGNED(x);
    FK_CHECK_ALIGNED(w);
    FK_CHECK_ALIGNED(bias);
    FK_CHECK_ALIGNED(y);
    if (rows < 0) fk_fail(__func__, "rows = %td is negative", rows);
    if (out < 1 || ldw < 1) fk_fail(__func__, "out = %td and ldw = %td must be at least 1", out, ldw);
    if (rows == 0) return;
    fk_gemm_grid(pool, x, ldx, w, ldw, in, out, bias, act, y, ldy, rows);
}

/// Panels per packing task.
#define FK_PACK_PANELS 4

typedef struct {
    const float *source;
    float *packed;
    ptrdiff_t ld, in, out, panels;
    int transposed;
} fk_pack_job;

static void fk_pack_block(void *ctx, ptrdiff_t task, int worker) {
    (void)worker;
    const fk_pack_job *j = ctx;
    const ptrdiff_t p0 = task * FK_PACK_PANELS;
    const ptrdiff_t p1 = p0 + FK_PACK_PANELS < j->panels ? p0 + FK_PACK_PANELS : j->panels;
    if (j->transposed) fk_gemm_pack_io_panels(j->source, j->ld, j->in, j->out, j->packed, p0, p1);
    else fk_gemm_pack_oi_panels(j->source, j->ld, j->out, j->in, j->packed, p0, p1);
}

static void fk_pack_parallel(fk_pool *pool, fk_pack_job *job) {
    job->panels = fk_gemm_packed_count(job->in, job->out) / (16 * job->in);
    fk_pool_run(pool, (job->panels + FK_PACK_PANELS - 1) / FK_PACK_PANELS, fk_pack_block, job);
}

void fk_gemm_pack_oi_parallel(fk_pool *pool, const float *w, ptrdiff_t ldw, ptrdiff_t out,
                              ptrdiff_t in, float *packed) {
    FK_CHECK_ALIGNED(w);
    FK_CHECK_ALIGNED(packed);
    fk_pack_job job = {w, packed, ldw, in, out, 0, 0};
    fk_pack_parallel(pool, &job);
}

void fk_gemm_pack_io_parallel(fk_pool *pool, const float *b, ptrdiff_t ldb, ptrdiff_t in,
                              ptrdiff_t out, float *packed) {
    FK_CHECK_ALIGNED(b);
    FK_CHECK_ALIGNED(packed);
    fk_pack_job job = {b, packed, ldb, in, out, 0, 1};
    fk_pack_parallel(pool, &job);
}
