/* The machine's float32 FMA peak, for scripts/bench's "fraction of peak" column.
 *
 *   cc -O2 -march=native -pthread scripts/benchmark/peak.c -o bench_peak && ./bench_peak THREADS SECONDS
 *
 * Each of THREADS threads runs ACC independent FMA chains (acc[i] = acc[i] * m + a)
 * in the widest vector registers the compiler targets (512-bit with AVX-512F,
 * 256-bit with AVX2+FMA, else 128-bit SSE multiply-add, which is not an FMA and
 * is reported as such) for about SECONDS seconds. ACC = 12 chains hide the FMA
 * latency (4 cycles) on two FMA pipes. Prints one JSON line:
 *   {"isa": "...", "threads": N, "gflops": G, "seconds": S}
 * where G = 2 * lanes * ACC * iterations * THREADS / wall seconds / 1e9, the
 * wall time spanning all threads. Exit status 2 on bad arguments.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <immintrin.h>

#define ACC 12
#define INNER 1000

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define ISA "avx512f fma (512-bit)"
#define SET1(x) _mm512_set1_ps(x)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define SUM(v) _mm512_reduce_add_ps(v)
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define ISA "avx2 fma (256-bit)"
#define SET1(x) _mm256_set1_ps(x)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
static float SUM(__m256 v) { float t[8]; _mm256_storeu_ps(t, v); return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7]; }
#else
typedef __m128 vec;
#define LANES 4
#define ISA "sse mul+add (128-bit, no fma)"
#define SET1(x) _mm_set1_ps(x)
#define FMA(a, b, c) _mm_add_ps(_mm_mul_ps(a, b), c)
static float SUM(__m128 v) { float t[4]; _mm_storeu_ps(t, v); return t[0] + t[1] + t[2] + t[3]; }
#endif

struct job { long outer; float sink; };

static void *run(void *arg) {
    struct job *job = arg;
    vec acc[ACC];
    for (int i = 0; i < ACC; i++) acc[i] = SET1(1.0f + 0.001f * (float)i);
    const vec m = SET1(0.999999f), a = SET1(1e-7f);
    for (long o = 0; o < job->outer; o++) {
        for (int k = 0; k < INNER; k++) {
#pragma GCC unroll 12
            for (int i = 0; i < ACC; i++) acc[i] = FMA(acc[i], m, a);
        }
        __asm__ volatile("" : : : "memory");
    }
    float s = 0;
    for (int i = 0; i < ACC; i++) s += SUM(acc[i]);
    job->sink = s; /* keeps the chains alive */
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs `threads` threads of `outer` x INNER x ACC vector FMAs; returns wall seconds. */
static double timed(int threads, long outer, struct job *jobs, pthread_t *ids) {
    double start = now();
    for (int t = 0; t < threads; t++) {
        jobs[t].outer = outer;
        pthread_create(&ids[t], NULL, run, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    return now() - start;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s THREADS SECONDS\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[1]);
    double seconds = atof(argv[2]);
    if (threads < 1 || threads > 1024 || !(seconds > 0)) {
        fprintf(stderr, "bench_peak: THREADS must be 1..1024 and SECONDS > 0, found '%s' '%s'\n", argv[1], argv[2]);
        return 2;
    }
    struct job *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    if (!jobs || !ids) return 1;
    /* Calibrate: grow `outer` until one run takes a tenth of the budget. */
    long outer = 16;
    double t = timed(threads, outer, jobs, ids);
    while (t < seconds / 10 && outer < (1L << 40)) {
        outer *= 2;
        t = timed(threads, outer, jobs, ids);
    }
    outer = (long)((double)outer * seconds / (t > 1e-9 ? t : 1e-9));
    if (outer < 1) outer = 1;
    t = timed(threads, outer, jobs, ids);
    double flops = 2.0 * LANES * ACC * (double)INNER * (double)outer * threads;
    float sink = 0;
    for (int i = 0; i < threads; i++) sink += jobs[i].sink;
    printf("{\"isa\": \"%s\", \"threads\": %d, \"gflops\": %.1f, \"seconds\": %.3f, \"sink\": %g}\n",
           ISA, threads, flops / t / 1e9, t, (double)sink);
    free(jobs);
    free(ids);
    return 0;
}
