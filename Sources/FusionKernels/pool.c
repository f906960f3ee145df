// A minimal parallel-for thread pool (see fk_pool.h): one loop at a time, tasks
// handed out through an atomic counter, workers spin briefly between loops and then
// sleep on a condition variable.
#include "internal/fk_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
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
    _Atomic unsigned long generation;
    _Atomic int stop;
    _Atomic ptrdiff_t next;
    _Atomic int active;        // workers not yet done with the current loop
    ptrdiff_t tasks;
    fk_task_fn fn;
    void *ctx;
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

static void fk_pool_work(fk_pool *pool, int id) {
    const ptrdiff_t tasks = pool->tasks;
    for (;;) {
        ptrdiff_t task = atomic_fetch_add_explicit(&pool->next, 1, memory_order_relaxed);
        if (task >= tasks) break;
        pool->fn(pool->ctx, task, id);
    }
}

static void *fk_worker_main(void *arg) {
    fk_worker_start start = *(fk_worker_start *)arg;
    free(arg);
    fk_pool *pool = start.pool;
    unsigned long seen = 0;
    for (;;) {
        unsigned long gen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        for (int spin = 0; gen == seen && spin < FK_POOL_SPIN; spin++) {
            fk_cpu_relax();
            gen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        }
        if (gen == seen) {
            pthread_mutex_lock(&pool->mutex);
            while ((gen = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
                   !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->wake, &pool->mutex);
            pthread_mutex_unlock(&pool->mutex);
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = gen;
        fk_pool_work(pool, start.id);
        atomic_fetch_sub_explicit(&pool->active, 1, memory_order_release);
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
    if (tasks < 0) fk_fail(__func__, "tasks = %td is negative", tasks);
    if (tasks == 0) return;
    if (pool == NULL || pool->threads == 1 || tasks == 1) {
        for (ptrdiff_t t = 0; t < tasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&pool->run_lock);
    pool->tasks = tasks;
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store_explicit(&pool->next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->active, pool->threads - 1, memory_order_relaxed);
    pthread_mutex_lock(&pool->mutex);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    fk_pool_work(pool, 0);
    for (unsigned spin = 0; atomic_load_explicit(&pool->active, memory_order_acquire) > 0; spin++) {
        if (spin < 100000) fk_cpu_relax();
        else sched_yield();
    }
    pthread_mutex_unlock(&pool->run_lock);
}

int fk_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}
