// kernels-bench: throughput of the FusionKernels kernels on this machine.
//
// Usage: kernels-bench [--quick] [--tokens N] [--dim N] [--level scalar|avx2|avx512]
// (--tokens and --dim set the token matrix of the attention kernel benchmarks: few
// tokens keep it in cache; dim 768 is X of the X-formed plan, 2048 raw image tokens.)
// Prints, for each kernel and shape, the median over repetitions of GFLOP/s (GEMM)
// or GB/s of the streamed token matrix (attention), on 1 thread and on all CPUs
// (work split across output columns or tokens through fk_pool). Numbers are noisy
// when other processes share the CPUs: medians, not best runs, are printed.
#define _POSIX_C_SOURCE 200809L
#include <FusionKernels.h>

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/// CPU seconds each worker spent inside tasks during the current measurement.
static double worker_cpu[64];

static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/// The largest per-worker CPU time of the last loop: its wall time had no other
/// process competed for the CPUs.
static double busiest_worker_s(int threads) {
    double m = 0;
    for (int w = 0; w < threads; w++) m = worker_cpu[w] > m ? worker_cpu[w] : m;
    return m;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/// Medians of a kernel's repeated loops: wall-clock seconds and busiest-worker CPU seconds.
typedef struct {
    double wall, cpu;
} timing;

/// Runs `tasks` tasks of `fn` on `pool` `reps` times and returns the median times.
static timing measure(fk_pool *pool, ptrdiff_t tasks, fk_task_fn fn, void *ctx, int reps) {
    double walls[64], cpus[64];
    const int threads = fk_pool_threads(pool);
    for (int r = 0; r < reps; r++) {
        memset(worker_cpu, 0, sizeof worker_cpu);
        double t0 = now_s();
        fk_pool_run(pool, tasks, fn, ctx);
        walls[r] = now_s() - t0;
        cpus[r] = busiest_worker_s(threads);
    }
    qsort(walls, (size_t)reps, sizeof(double), cmp_double);
    qsort(cpus, (size_t)reps, sizeof(double), cmp_double);
    timing t = {walls[reps / 2], cpus[reps / 2]};
    return t;
}

static float *alloc_floats(ptrdiff_t n) {
    size_t bytes = ((size_t)n * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    if (p == NULL) {
        fprintf(stderr, "kernels-bench: cannot allocate %zu bytes\n", bytes);
        exit(1);
    }
    return p;
}

static void fill(float *p, ptrdiff_t n, unsigned seed) {
    unsigned s = seed * 2654435761u + 1u;
    for (ptrdiff_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)((s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
    }
}

// ---- GEMM ------------------------------------------------------------------------

typedef struct {
    const float *x, *packed, *bias;
    float *y;
    ptrdiff_t rows, in, out, parts;
    const float *unpacked;  // non-NULL: run fk_gemm_unpacked on this (out × in) weight
} gemm_job;

static void gemm_task(void *ctx, ptrdiff_t task, int worker) {
    const double cpu0 = thread_cpu_s();
    const gemm_job *j = ctx;
    // Split output columns on 16-column panel boundaries.
    ptrdiff_t panels = (j->out + 15) / 16;
    ptrdiff_t c0 = panels * task / j->parts * 16, c1 = panels * (task + 1) / j->parts * 16;
    if (c1 > j->out) c1 = j->out;
    if (j->unpacked)
        fk_gemm_unpacked(j->x, j->in, j->unpacked, j->in, j->in, j->out, j->bias, FK_ACT_NONE, j->y,
                         j->out, 0, j->rows, c0, c1);
    else
        fk_gemm(j->x, j->in, j->packed, j->in, j->out, j->bias, FK_ACT_NONE, j->y, j->out, 0,
                j->rows, c0, c1);
    worker_cpu[worker] += thread_cpu_s() - cpu0;
}

static timing bench_gemm(fk_pool *pool, ptrdiff_t rows, ptrdiff_t in, ptrdiff_t out, int reps,
                         int unpacked) {
    float *x = alloc_floats(rows * in), *w = alloc_floats(in * out), *y = alloc_floats(rows * out);
    float *bias = alloc_floats(out), *packed = alloc_floats(fk_gemm_packed_count(in, out));
    fill(x, rows * in, 1);
    fill(w, in * out, 2);
    fill(bias, out, 3);
    fk_gemm_pack_oi(w, in, out, in, packed);
    gemm_job job = {x, packed, bias, y, rows, in, out, fk_pool_threads(pool), unpacked ? w : NULL};
    timing t = measure(pool, job.parts, gemm_task, &job, reps);
    free(x); free(w); free(y); free(bias); free(packed);
    const double flops = 2.0 * (double)rows * (double)in * (double)out;
    timing rate = {flops / t.wall / 1e9, flops / t.cpu / 1e9};
    return rate;
}

// ---- attention ---------------------------------------------------------------------

typedef struct {
    const float *img, *u;
    float *s, *p, *z, *m, *l;
    ptrdiff_t tokens, dim, heads, parts, chunk;
} attn_job;

static void scores_task(void *ctx, ptrdiff_t task, int worker) {
    const double cpu0 = thread_cpu_s();
    const attn_job *j = ctx;
    ptrdiff_t t0 = j->tokens * task / j->parts, t1 = j->tokens * (task + 1) / j->parts;
    fk_attn_scores(j->img, j->dim, t0, t1, j->dim, j->u, j->dim, j->heads, j->s, j->heads);
    worker_cpu[worker] += thread_cpu_s() - cpu0;
}

static void wsum_task(void *ctx, ptrdiff_t task, int worker) {
    const double cpu0 = thread_cpu_s();
    const attn_job *j = ctx;
    ptrdiff_t c0 = j->dim * task / j->parts / 16 * 16, c1 = j->dim * (task + 1) / j->parts / 16 * 16;
    if (task == j->parts - 1) c1 = j->dim;
    fk_attn_weighted_sum(j->img, j->dim, 0, j->tokens, j->dim, j->p, j->heads, j->heads, j->z,
                         j->dim, c0, c1);
    worker_cpu[worker] += thread_cpu_s() - cpu0;
}

static void chunk_task(void *ctx, ptrdiff_t task, int worker) {
    const double cpu0 = thread_cpu_s();
    const attn_job *j = ctx;
    // Each task runs a contiguous run of chunks in order (the chunk kernel prefetches
    // the rows of the chunk that follows).
    const ptrdiff_t chunks = (j->tokens + j->chunk - 1) / j->chunk;
    for (ptrdiff_t c = chunks * task / j->parts; c < chunks * (task + 1) / j->parts; c++) {
        ptrdiff_t t0 = c * j->chunk, t1 = t0 + j->chunk < j->tokens ? t0 + j->chunk : j->tokens;
        fk_attn_chunk(j->img, j->dim, t0, t1, j->dim, j->u, j->dim, j->heads, j->p, j->heads,
                      j->m + c * j->heads, j->l + c * j->heads, j->z + c * j->heads * j->dim,
                      j->dim);
    }
    worker_cpu[worker] += thread_cpu_s() - cpu0;
}

typedef enum { ATTN_SCORES, ATTN_WSUM, ATTN_CHUNK } attn_kind;

static timing bench_attn(fk_pool *pool, attn_kind kind, ptrdiff_t tokens, ptrdiff_t dim,
                         ptrdiff_t heads, int reps) {
    const ptrdiff_t chunk = 64, chunks = (tokens + chunk - 1) / chunk;
    float *img = alloc_floats(tokens * dim), *u = alloc_floats(heads * dim);
    float *s = alloc_floats(tokens * heads), *p = alloc_floats(tokens * heads);
    float *z = alloc_floats(chunks * heads * dim), *m = alloc_floats(chunks * heads);
    float *l = alloc_floats(chunks * heads);
    fill(img, tokens * dim, 4);
    fill(u, heads * dim, 5);
    for (ptrdiff_t i = 0; i < tokens * heads; i++) p[i] = 1.0f / (float)tokens;
    attn_job job = {img, u, s, p, z, m, l, tokens, dim, heads, fk_pool_threads(pool), chunk};
    fk_task_fn fn = kind == ATTN_SCORES ? scores_task : kind == ATTN_WSUM ? wsum_task : chunk_task;
    timing t = measure(pool, job.parts, fn, &job, reps);
    free(img); free(u); free(s); free(p); free(z); free(m); free(l);
    const double bytes = (double)tokens * (double)dim * sizeof(float);
    timing rate = {bytes / t.wall / 1e9, bytes / t.cpu / 1e9};
    return rate;
}

// ---- elementwise -------------------------------------------------------------------

static double bench_map(fk_activation act, int use_exp, ptrdiff_t n, int reps) {
    float *x = alloc_floats(n), *y = alloc_floats(n);
    fill(x, n, 6);
    double times[64];
    for (int r = 0; r < reps; r++) {
        double t0 = thread_cpu_s();
        if (use_exp) fk_exp(x, y, n);
        else fk_activate(act, x, y, n);
        times[r] = thread_cpu_s() - t0;
    }
    qsort(times, (size_t)reps, sizeof(double), cmp_double);
    free(x); free(y);
    return (double)n / times[reps / 2] / 1e9;
}

static double bench_layer_norm(ptrdiff_t rows, ptrdiff_t n, int reps) {
    float *x = alloc_floats(rows * n), *y = alloc_floats(rows * n), *g = alloc_floats(n),
          *b = alloc_floats(n);
    fill(x, rows * n, 7); fill(g, n, 8); fill(b, n, 9);
    double times[64];
    for (int r = 0; r < reps; r++) {
        double t0 = thread_cpu_s();
        fk_layer_norm(x, n, y, n, rows, n, g, b, 1e-5f);
        times[r] = thread_cpu_s() - t0;
    }
    qsort(times, (size_t)reps, sizeof(double), cmp_double);
    free(x); free(y); free(g); free(b);
    return (double)rows / times[reps / 2] / 1e6;
}

/// Median seconds of fk_attend over `batch` samples of `tokens` tokens (dim 2048,
/// 8 heads, chunks of 64): the thread's CPU time when pool is NULL, else wall time.
static double bench_attend(fk_pool *pool, ptrdiff_t batch, ptrdiff_t tokens, int reps) {
    const ptrdiff_t dim = 2048, heads = 8;
    float *img = alloc_floats(batch * tokens * dim), *u = alloc_floats(batch * heads * dim);
    float *z = alloc_floats(batch * heads * dim);
    fill(img, batch * tokens * dim, 10);
    fill(u, batch * heads * dim, 11);
    for (ptrdiff_t i = 0; i < batch * heads * dim; i++) u[i] *= 0.05f;
    fk_attn_sample *samples = malloc((size_t)batch * sizeof *samples);
    for (ptrdiff_t b = 0; b < batch; b++) {
        fk_attn_sample s = {img + b * tokens * dim, tokens, u + b * heads * dim, z + b * heads * dim, NULL};
        samples[b] = s;
    }
    float *scratch = alloc_floats(fk_attend_scratch_count(samples, batch, dim, heads, 64));
    double times[64];
    for (int r = 0; r < reps; r++) {
        double t0 = pool ? now_s() : thread_cpu_s();
        fk_attend(pool, samples, batch, dim, dim, heads, dim, dim, 64, scratch);
        times[r] = (pool ? now_s() : thread_cpu_s()) - t0;
    }
    qsort(times, (size_t)reps, sizeof(double), cmp_double);
    free(img); free(u); free(z); free(samples); free(scratch);
    return times[reps / 2];
}

/// GB/s (read side) of packing an (out × in) weight, one thread, thread CPU time.
static double bench_pack(ptrdiff_t in, ptrdiff_t out, int reps) {
    float *w = alloc_floats(in * out), *packed = alloc_floats(fk_gemm_packed_count(in, out));
    fill(w, in * out, 12);
    double times[64];
    for (int r = 0; r < reps; r++) {
        double t0 = thread_cpu_s();
        fk_gemm_pack_oi(w, in, out, in, packed);
        times[r] = thread_cpu_s() - t0;
    }
    qsort(times, (size_t)reps, sizeof(double), cmp_double);
    free(w); free(packed);
    return (double)in * (double)out * 4 / times[reps / 2] / 1e9;
}

/// A task that waits until every thread of the loop has arrived: the loop then
/// measures a real wake-up and rendezvous of all threads.
typedef struct barrier {
    _Atomic int arrived;
    int threads;  // the loop's thread count, read once, not a sysconf per spin
} barrier;

static void barrier_task(void *ctx, ptrdiff_t task, int worker) {
    (void)task; (void)worker;
    barrier *b = ctx;
    atomic_fetch_add(&b->arrived, 1);
    while (atomic_load(&b->arrived) < b->threads) __builtin_ia32_pause();
}

/// Median wall time of one fk_pool_run in which all threads must take part, in µs.
static double bench_pool_latency(fk_pool *pool, int reps) {
    double times[64];
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        for (int i = 0; i < 200; i++) {
            barrier b = {0, fk_pool_threads(pool)};
            fk_pool_run(pool, b.threads, barrier_task, &b);
        }
        times[r] = (now_s() - t0) / 200;
    }
    qsort(times, (size_t)reps, sizeof(double), cmp_double);
    return times[reps / 2] * 1e6;
}

int main(int argc, char **argv) {
    int quick = 0;
    ptrdiff_t attn_tokens = 0, attn_dim = 2048;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--tokens") == 0 && i + 1 < argc) attn_tokens = atol(argv[++i]);
        else if (strcmp(argv[i], "--dim") == 0 && i + 1 < argc) attn_dim = atol(argv[++i]);
        else if (strcmp(argv[i], "--level") == 0 && i + 1 < argc) {
            const char *name = argv[++i];
            int found = 0;
            for (int lv = FK_CPU_SCALAR; lv <= FK_CPU_AVX512; lv++)
                if (strcmp(name, fk_cpu_level_name((fk_cpu_level)lv)) == 0) {
                    fk_cpu_set_level((fk_cpu_level)lv);
                    found = 1;
                }
            if (!found) {
                fprintf(stderr, "kernels-bench: unknown level '%s' (scalar, avx2, avx512)\n", name);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: kernels-bench [--quick] [--tokens N] [--dim N] [--level scalar|avx2|avx512]\n");
            return 2;
        }
    }
    const int reps = quick ? 5 : 11;
    // worker_cpu has a slot per worker: at most 64 threads.
    const int cpus = fk_cpu_count() < 64 ? fk_cpu_count() : 64;
    fk_pool *pools[2] = {fk_pool_create(1), fk_pool_create(cpus)};
    printf("path %s (detected %s), %d CPUs; medians of %d runs.\n"
           "'cpu' columns divide by the busiest thread's own CPU time (what the wall time would be\n"
           "with the CPUs to ourselves), 'wall' by wall-clock time (noisy when other processes run).\n",
           fk_cpu_level_name(fk_cpu_level_current()), fk_cpu_level_name(fk_cpu_detected()), cpus,
           reps);

    static const ptrdiff_t gemm_shapes[][3] = {
        {256, 768, 768}, {256, 768, 3072}, {256, 3072, 768}, {256, 2048, 768},
        {64, 768, 768},  {8, 768, 3072},   {1, 768, 3072},   {1, 3072, 768}, {1, 768, 256},
    };
    printf("\nGEMM Y = X·Wᵀ + b, GFLOP/s     1 thread cpu   %d threads cpu   %d threads wall\n", cpus, cpus);
    for (size_t i = 0; i < sizeof gemm_shapes / sizeof gemm_shapes[0]; i++) {
        const ptrdiff_t *sh = gemm_shapes[i];
        timing one = bench_gemm(pools[0], sh[0], sh[1], sh[2], reps, 0);
        timing all = bench_gemm(pools[1], sh[0], sh[1], sh[2], reps, 0);
        printf("rows %4td in %4td out %4td  %10.1f     %10.1f      %10.1f\n", sh[0], sh[1], sh[2],
               one.cpu, all.cpu, all.wall);
        fflush(stdout);
    }
    printf("unpacked weight (fk_gemm_unpacked)\n");
    for (size_t i = 4; i < sizeof gemm_shapes / sizeof gemm_shapes[0]; i++) {
        const ptrdiff_t *sh = gemm_shapes[i];
        timing one = bench_gemm(pools[0], sh[0], sh[1], sh[2], reps, 1);
        timing all = bench_gemm(pools[1], sh[0], sh[1], sh[2], reps, 1);
        printf("rows %4td in %4td out %4td  %10.1f     %10.1f      %10.1f\n", sh[0], sh[1], sh[2],
               one.cpu, all.cpu, all.wall);
        fflush(stdout);
    }

    const ptrdiff_t tokens = attn_tokens > 0 ? attn_tokens : quick ? 4096 : 16384, heads = 8;
    const ptrdiff_t dim = attn_dim;
    printf("\nattention, I = %td × %td floats (%.0f MB), %td heads; GB/s of I\n", tokens, dim,
           (double)tokens * (double)dim * 4 / 1e6, heads);
    printf("                              1 thread cpu   %d threads cpu   %d threads wall\n", cpus, cpus);
    static const char *names[] = {"scores s = I·Uᵀ          ", "weighted sum z = Pᵀ·I    ",
                                  "fused chunks of 64 tokens"};
    for (int k = 0; k < 3; k++) {
        timing one = bench_attn(pools[0], (attn_kind)k, tokens, dim, heads, reps);
        timing all = bench_attn(pools[1], (attn_kind)k, tokens, dim, heads, reps);
        printf("%s  %10.1f     %10.1f      %10.1f\n", names[k], one.cpu, all.cpu, all.wall);
        fflush(stdout);
    }

    static const ptrdiff_t attend_shapes[][2] = {{1, 64}, {256, 128}, {4, 4096}};
    printf("\nfk_attend (dim 2048, 8 heads, chunks of 64)   1 thread cpu        %d threads wall\n", cpus);
    for (size_t i = 0; i < sizeof attend_shapes / sizeof attend_shapes[0]; i++) {
        const ptrdiff_t b = attend_shapes[i][0], t = quick ? attend_shapes[i][1] / 4 : attend_shapes[i][1];
        const double gb = (double)b * (double)t * 2048 * 4 / 1e9;
        const double one = bench_attend(NULL, b, t, reps), all = bench_attend(pools[1], b, t, reps);
        printf("B %4td × %4td tokens (%6.1f MB)      %7.2f ms %5.1f GB/s  %7.2f ms %5.1f GB/s\n", b, t,
               gb * 1e3, one * 1e3, gb / one, all * 1e3, gb / all);
        fflush(stdout);
    }

    printf("\npacking nn.Linear weights (fk_gemm_pack_oi), 1 thread, GB/s read: in 3072 → out 768 %.2f, "
           "768 → 3072 %.2f, 2048 → 768 %.2f\n",
           bench_pack(3072, 768, reps), bench_pack(768, 3072, reps), bench_pack(2048, 768, reps));

    const ptrdiff_t n = 1 << 22;
    printf("\nelementwise, 1 thread (G elements/s): exp %.2f  gelu %.2f  gelu_tanh %.2f  relu %.2f\n",
           bench_map(FK_ACT_NONE, 1, n, reps), bench_map(FK_ACT_GELU, 0, n, reps),
           bench_map(FK_ACT_GELU_TANH, 0, n, reps), bench_map(FK_ACT_RELU, 0, n, reps));
    printf("layer norm, 1 thread, n = 768: %.2f M rows/s\n", bench_layer_norm(4096, 768, reps));
    printf("thread pool: a parallel loop in which all %d threads meet takes %.1f µs (wall)\n", cpus,
           bench_pool_latency(pools[1], reps));
    fk_pool_destroy(pools[0]);
    fk_pool_destroy(pools[1]);
    return 0;
}
