// fk_attend: batched chunked attention on a pool (see fk_parallel.h). Three loops:
// (1) fk_attn_chunk on runs of consecutive chunks, (2) per-sample merge scales and
// attention weights, (3) fk_attn_merge_sum over column parts.
#include "internal/fk_internal.h"

#include <stdlib.h>

/// Where each sample's chunk results live in the scratch memory.
typedef struct {
    ptrdiff_t chunks;      // ceil(tokens / chunk)
    ptrdiff_t first;       // index of its first chunk among all samples' chunks
    float *m, *l, *scale;  // chunks × heads each
    float *zc;             // chunks × heads × dim
    float *p;              // tokens × heads
} fk_attn_layout;

typedef struct {
    const fk_attn_sample *samples;
    fk_attn_layout *layout;
    ptrdiff_t count, dim, ldi, heads, ldu, ldz, chunk;
    ptrdiff_t total_chunks, run;     // loop 1: runs of `run` chunks
    ptrdiff_t parts;                 // loop 3: column parts per sample
} fk_attend_job;

static ptrdiff_t fk_chunks_of(ptrdiff_t tokens, ptrdiff_t chunk) { return (tokens + chunk - 1) / chunk; }

static void fk_attend_chunks(void *ctx, ptrdiff_t task, int worker) {
    (void)worker;
    const fk_attend_job *j = ctx;
    ptrdiff_t f = task * j->run;
    const ptrdiff_t f_end = f + j->run < j->total_chunks ? f + j->run : j->total_chunks;
    // The sample holding chunk f: binary search over the chunk prefix.
    ptrdiff_t lo = 0, hi = j->count - 1;
    while (lo < hi) {
        ptrdiff_t mid = (lo + hi + 1) / 2;
        if (j->layout[mid].first <= f) lo = mid;
        else hi = mid - 1;
    }
    for (ptrdiff_t b = lo; f < f_end; b++) {
        const fk_attn_sample *s = &j->samples[b];
        const fk_attn_layout *L = &j->layout[b];
        for (ptrdiff_t c = f - L->first; c < L->chunks && f < f_end; c++, f++) {
            const ptrdiff_t t0 = c * j->chunk;
            const ptrdiff_t t1 = t0 + j->chunk < s->tokens ? t0 + j->chunk : s->tokens;
            fk_attn_chunk(s->img, j->ldi, t0, t1, j->dim, s->u, j->ldu, j->heads, L->p, j->heads,
                          L->m + c * j->heads, L->l + c * j->heads,
                          L->zc + c * j->heads * j->dim, j->dim);
        }
    }
}

static void fk_attend_scales(void *ctx, ptrdiff_t b, int worker) {
    (void)worker;
    const fk_attend_job *j = ctx;
    const fk_attn_sample *s = &j->samples[b];
    const fk_attn_layout *L = &j->layout[b];
    fk_attn_merge_scales(L->chunks, j->heads, L->m, L->l, L->scale);
    if (s->weights == NULL) return;
    for (ptrdiff_t t = 0; t < s->tokens; t++) {
        const float *scale = L->scale + (t / j->chunk) * j->heads;
        for (ptrdiff_t h = 0; h < j->heads; h++)
            s->weights[t * j->heads + h] = L->p[t * j->heads + h] * scale[h];
    }
}

static void fk_attend_merge(void *ctx, ptrdiff_t task, int worker) {
    (void)worker;
    const fk_attend_job *j = ctx;
    const ptrdiff_t b = task / j->parts, part = task % j->parts;
    const ptrdiff_t vectors = (j->dim + 15) / 16;
    const ptrdiff_t j0 = vectors * part / j->parts * 16;
    ptrdiff_t j1 = vectors * (part + 1) / j->parts * 16;
    if (j1 > j->dim) j1 = j->dim;
    const fk_attn_layout *L = &j->layout[b];
    fk_attn_merge_sum(L->chunks, j->heads, j->dim, L->scale, L->zc, j->heads * j->dim, j->dim,
                      j->samples[b].z, j->ldz, j0, j1);
}

static void fk_attend_check(const char *function, const fk_attn_sample *samples, ptrdiff_t count,
                            ptrdiff_t dim, ptrdiff_t heads, ptrdiff_t chunk) {
    if (count < 0) fk_fail(function, "count = %td is negative", count);
    if (dim < 1) fk_fail(function, "dim = %td must be at least 1", dim);
    if (heads < 1 || heads > FK_ATTN_MAX_HEADS)
        fk_fail(function, "heads = %td is outside [1, %d]", heads, FK_ATTN_MAX_HEADS);
    if (chunk < 1) fk_fail(function, "chunk = %td must be at least 1", chunk);
    for (ptrdiff_t b = 0; b < count; b++) {
        const fk_attn_sample *s = &samples[b];
        if (s->tokens < 1)
            fk_fail(function, "sample %td has %td valid tokens; attention needs at least one", b,
                    s->tokens);
        const char *names[4] = {"img", "u", "z", "weights"};
        const void *pointers[4] = {s->img, s->u, s->z, s->weights};
        for (int i = 0; i < 4; i++)
            if ((uintptr_t)pointers[i] % _Alignof(float) != 0)
                fk_fail(function, "sample %td: %s = %p is not %zu-byte aligned: every float pointer must be",
                        b, names[i], pointers[i], _Alignof(float));
    }
}

ptrdiff_t fk_attend_scratch_count(const fk_attn_sample *samples, ptrdiff_t count, ptrdiff_t dim,
                                  ptrdiff_t heads, ptrdiff_t chunk) {
    fk_attend_check(__func__, samples, count, dim, heads, chunk);
    ptrdiff_t total = 0;
    for (ptrdiff_t b = 0; b < count; b++)
        total += fk_chunks_of(samples[b].tokens, chunk) * heads * (3 + dim) + samples[b].tokens * heads;
    return total;
}

void fk_attend(fk_pool *pool, const fk_attn_sample *samples, ptrdiff_t count, ptrdiff_t dim,
               ptrdiff_t ldi, ptrdiff_t heads, ptrdiff_t ldu, ptrdiff_t ldz, ptrdiff_t chunk,
               float *scratch) {
    fk_attend_check(__func__, samples, count, dim, heads, chunk);
    if (ldi < dim || ldu < dim || ldz < dim)
        fk_fail(__func__, "strides ldi = %td, ldu = %td, ldz = %td must be at least dim = %td", ldi,
                ldu, ldz, dim);
    FK_CHECK_ALIGNED(scratch);
    if (count == 0) return;
    fk_attn_layout *layout = malloc((size_t)count * sizeof *layout);
    if (layout == NULL) fk_fail(__func__, "cannot allocate the layout of %td samples", count);
    ptrdiff_t total_chunks = 0;
    float *next = scratch;
    for (ptrdiff_t b = 0; b < count; b++) {
        fk_attn_layout *L = &layout[b];
        L->chunks = fk_chunks_of(samples[b].tokens, chunk);
        L->first = total_chunks;
        total_chunks += L->chunks;
        L->m = next;
        L->l = L->m + L->chunks * heads;
        L->scale = L->l + L->chunks * heads;
        L->zc = L->scale + L->chunks * heads;
        L->p = L->zc + L->chunks * heads * dim;
        next = L->p + samples[b].tokens * heads;
    }
    const ptrdiff_t threads = fk_pool_threads(pool);
    // Runs of consecutive chunks: long enough for the next-chunk prefetch to pay, about
    // eight per thread for balance.
    ptrdiff_t run = total_chunks / (8 * threads);
    if (run < 1) run = 1;
    ptrdiff_t parts = count >= 2 * threads ? 1 : (2 * threads + count - 1) / count;
    const ptrdiff_t vectors = (dim + 15) / 16;
    if (parts > vectors) parts = vectors;
    fk_attend_job job = {samples, layout, count, dim, ldi, heads, ldu, ldz, chunk,
                         total_chunks, run, parts};
    fk_pool_run(pool, (total_chunks + run - 1) / run, fk_attend_chunks, &job);
    fk_pool_run(pool, count, fk_attend_scales, &job);
    fk_pool_run(pool, count * parts, fk_attend_merge, &job);
    free(layout);
}
