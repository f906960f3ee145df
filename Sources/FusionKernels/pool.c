// A minimal parallel-for thread pool (see fk_pool.h).
//
// Protocol: one 64-bit atomic word `claim` holds (loop generation << 32 | next task).
// The caller publishes a loop (fn, ctx, tasks), then stores claim = (gen, 0) and wakes
// the workers. Everybody, the caller included, claims tasks with a compare-and-swap that
// only succeeds while the word still belongs to the loop it read fn/ctx/tasks for, and
// counts finished tasks in `done`. The caller returns once done == tasks: it never waits
// for a worker that was too late to claim anything, which matters when other processes
// keep the workers off the CPUs. When all tasks are done the caller closes the loop (task
// index 0xFFFFFFFF) before it stores the next loop's fn, ctx and tasks (release; workers
// load them with acquire before the word they claim from). So a worker that read the
// generation late, and then loaded values of a later loop, also finds its loop closed or
// gone and claims nothing: it never runs a task of one loop with another's fn, ctx or
// count, and never after fk_pool_run has returned. (Without the close, such a worker could
// claim index tasks_old of the exhausted old word with the next loop's larger count, just
// before that loop is published, and run it twice, or after its caller had returned.)
#include "internal/fk_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/// Spin iterations a worker polls for the next loop before sleeping (tens of µs).
#define FK_POOL_SPIN 4000

struct fk_pool {
    int threads;
    pthread_t *workers;
    pthread_mutex_t mutex;     // guards sleeping on `wake`
    pthread_cond_t wake;
    pthread_mutex_t run_lock;  // serialises fk_pool_run
    _Atomic uint64_t claim;    // generation << 32 | next task index
    _Atomic ptrdiff_t done;    // tasks finished in the current loop
    _Atomic int stop;
    _Atomic(fk_task_fn) fn;
    _Atomic(void *) ctx;
    _Atomic ptrdiff_t tasks;
};

typedef struct {
    fk_pool *pool;
    int id;
} fk_worker_start;

static inline void fk_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// Claims and runs tasks of loop `gen` until none are left or the loop is over.
static void fk_pool_work(fk_pool *pool, uint64_t gen, int id) {
    fk_task_fn fn = atomic_load_explicit(&pool->fn, memory_order_acquire);
    void *ctx = atomic_load_explicit(&pool->ctx, memory_order_acquire);
    const uint64_t tasks = (uint64_t)atomic_load_explicit(&pool->tasks, memory_order_acquire);
    uint64_t word = atomic_load_explicit(&pool->claim, memory_order_acquire);
    for (;;) {
        if ((word >> 32) != gen || (word & 0xFFFFFFFFu) >= tasks) return;
        if (!atomic_compare_exchange_weak_explicit(&pool->claim, &word, word + 1,
                                                   memory_order_acq_rel, memory_order_acquire))
            continue;
        fn(ctx, (ptrdiff_t)(word & 0xFFFFFFFFu), id);
        atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
        word = atomic_load_explicit(&pool->claim, memory_order_acquire);
    }
}

static void *fk_worker_main(void *arg) {
    fk_worker_start start = *(fk_worker_start *)arg;
    free(arg);
    fk_pool *pool = start.pool;
    uint64_t seen = 0;
    for (;;) {
        uint64_t gen = atomic_load_explicit(&pool->claim, memory_order_acquire) >> 32;
        for (int spin = 0; gen == seen && spin < FK_POOL_SPIN; spin++) {
            fk_cpu_relax();
            gen = atomic_load_explicit(&pool->claim, memory_order_acquire) >> 32;
        }
        if (gen == seen) {
            pthread_mutex_lock(&pool->mutex);
            while ((gen = atomic_load_explicit(&pool->claim, memory_order_acquire) >> 32) == seen &&
                   !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->wake, &pool->mutex);
            pthread_mutex_unlock(&pool->mutex);
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = gen;
        fk_pool_work(pool, gen, start.id);
    }
}

fk_pool *fk_pool_create(int threads) {
    if (threads < 1) fk_fail(__func__, "threads = %d must be at least 1", threads);
    fk_pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL) return NULL;
    pool->threads = threads;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_mutex_init(&pool->run_lock, NULL);
    pool->workers = calloc((size_t)threads, sizeof(pthread_t));
    if (pool->workers == NULL) {
        free(pool);
        return NULL;
    }
    for (int i = 1; i < threads; i++) {
        fk_worker_start *start = malloc(sizeof *start);
        if (start != NULL) {
            start->pool = pool;
            start->id = i;
        }
        if (start == NULL || pthread_create(&pool->workers[i], NULL, fk_worker_main, start) != 0) {
            free(start);
            pool->threads = i;  // destroy joins the workers started so far
            fk_pool_destroy(pool);
            return NULL;
        }
    }
    return pool;
}

void fk_pool_destroy(fk_pool *pool) {
    if (pool == NULL) return;
    pthread_mutex_lock(&pool->mutex);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 1; i < pool->threads; i++) pthread_join(pool->workers[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->mutex);
    pthread_mutex_destroy(&pool->run_lock);
    free(pool->workers);
    free(pool);
}

int fk_pool_threads(const fk_pool *pool) { return pool ? pool->threads : 1; }

void fk_pool_run(fk_pool *pool, ptrdiff_t tasks, fk_task_fn fn, void *ctx) {
    if (tasks < 0 || tasks > 0x7FFFFFFF)
        fk_fail(__func__, "tasks = %td is outside [0, 2^31)", tasks);
    if (tasks == 0) return;
    if (pool == NULL || pool->threads == 1 || tasks == 1) {
        for (ptrdiff_t t = 0; t < tasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&pool->run_lock);
    const uint64_t gen = (atomic_load_explicit(&pool->claim, memory_order_relaxed) >> 32) + 1;
    atomic_store_explicit(&pool->fn, fn, memory_order_release);
    atomic_store_explicit(&pool->ctx, ctx, memory_order_release);
    atomic_store_explicit(&pool->tasks, tasks, memory_order_release);
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    pthread_mutex_lock(&pool->mutex);
    atomic_store_explicit(&pool->claim, gen << 32, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    fk_pool_work(pool, gen, 0);
    for (unsigned spin = 0; atomic_load_explicit(&pool->done, memory_order_acquire) < tasks; spin++) {
        if (spin < 100000) fk_cpu_relax();
        else sched_yield();
    }
    // Every task is claimed (index = tasks); close the loop so that no late worker can claim
    // from this word once the next loop's fn, ctx and tasks are stored.
    atomic_store_explicit(&pool->claim, (gen << 32) | 0xFFFFFFFFu, memory_order_relaxed);
    pthread_mutex_unlock(&pool->run_lock);
}

int fk_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}
