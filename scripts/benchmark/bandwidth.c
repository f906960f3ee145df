/* The machine's streaming read bandwidth from memory, for scripts/bench's machine lines.
 *
 *   cc -O2 -march=native -pthread scripts/benchmark/bandwidth.c -o bench_bandwidth && ./bench_bandwidth THREADS MIB SECONDS
 *
 * Allocates MIB mebibytes (far larger than the last-level cache: 1024 by default in
 * scripts/bench), writes every page once (no page faults while timed), then THREADS
 * threads each sum their own contiguous slice of it with vector loads (256-bit integer
 * adds with AVX2, 64-bit scalar adds otherwise; 4 independent accumulators), pass after
 * pass, for about SECONDS seconds. A pass's bandwidth = MIB bytes / its wall time
 * (all threads start and end together); prints the best pass as one JSON line:
 *   {"threads": N, "bytes": B, "gbps": G, "passes": P, "sink": S}
 * G is 1e9 bytes per second read (nothing written). Exit status 2 on bad arguments.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>

struct job {
    const uint64_t *data;
    size_t words;
    uint64_t sink;
};

static void *sum(void *arg) {
    struct job *job = arg;
    const uint64_t *p = job->data;
    size_t n = job->words;
#if defined(__AVX2__)
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)(p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(p + i + 4)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *)(p + i + 8)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *)(p + i + 12)));
    }
    uint64_t t[4];
    _mm256_storeu_si256((__m256i *)t, _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
    uint64_t s = t[0] + t[1] + t[2] + t[3];
#else
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    uint64_t s = s0 + s1 + s2 + s3;
#endif
    for (; i < n; i++) s += p[i];
    job->sink += s;
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s THREADS MIB SECONDS\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[1]);
    long mib = atol(argv[2]);
    double seconds = atof(argv[3]);
    if (threads < 1 || threads > 1024 || mib < 1 || mib > (1L << 20) || !(seconds > 0)) {
        fprintf(stderr, "bench_bandwidth: THREADS 1..1024, MIB 1..2^20, SECONDS > 0; found '%s' '%s' '%s'\n",
                argv[1], argv[2], argv[3]);
        return 2;
    }
    size_t bytes = (size_t)mib << 20, words = bytes / 8;
    uint64_t *data = aligned_alloc(64, bytes);
    struct job *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    if (!data || !jobs || !ids) {
        fprintf(stderr, "bench_bandwidth: cannot allocate %ld MiB\n", mib);
        return 1;
    }
    for (size_t i = 0; i < words; i++) data[i] = i;
    size_t per = (words / (size_t)threads) & ~(size_t)15; /* 128-byte multiples: aligned loads */
    for (int t = 0; t < threads; t++) {
        jobs[t].data = data + (size_t)t * per;
        jobs[t].words = t == threads - 1 ? words - (size_t)t * per : per;
    }
    double best = 1e30, start = now();
    long passes = 0;
    do {
        double t0 = now();
        for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, sum, &jobs[t]);
        for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
        double t1 = now() - t0;
        if (t1 < best) best = t1;
        passes++;
    } while (now() - start < seconds || passes < 3);
    uint64_t sink = 0;
    for (int t = 0; t < threads; t++) sink += jobs[t].sink;
    printf("{\"threads\": %d, \"bytes\": %zu, \"gbps\": %.2f, \"passes\": %ld, \"sink\": %llu}\n", threads, bytes,
           (double)bytes / best / 1e9, passes, (unsigned long long)sink);
    free(data);
    free(jobs);
    free(ids);
    return 0;
}
