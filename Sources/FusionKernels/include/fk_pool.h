#ifndef FK_POOL_H
#define FK_POOL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A fixed set of worker threads running parallel-for loops over task indices.
///
/// The calling thread takes part, so a pool of `threads` uses `threads − 1`
/// workers. Workers spin briefly after a loop (low latency for the next one)
/// and then sleep on a condition variable. Tasks are handed out dynamically, so
/// which thread runs a task varies between runs: a task must write only its
/// own outputs, and then results are independent of the schedule.
typedef struct fk_pool fk_pool;

/// A task: `ctx` as given to `fk_pool_run`, `task` in [0, tasks), `worker` in
/// [0, threads) (0 is the calling thread) for per-thread scratch space.
typedef void (*fk_task_fn)(void *ctx, ptrdiff_t task, int worker);

/// Creates a pool of `threads` ≥ 1 threads in total (the caller counts).
/// Returns NULL if a thread could not be started.
fk_pool *fk_pool_create(int threads);

/// Stops and joins the workers and frees the pool. NULL is ignored.
void fk_pool_destroy(fk_pool *pool);

/// The total thread count given to `fk_pool_create`.
int fk_pool_threads(const fk_pool *pool);

/// Runs fn(ctx, task, worker) for every task in [0, tasks) and returns when all
/// have finished. One loop at a time per pool: calls from several threads at
/// once are serialised. `pool` NULL runs everything on the caller (worker 0).
void fk_pool_run(fk_pool *pool, ptrdiff_t tasks, fk_task_fn fn, void *ctx);

/// The number of online CPUs (at least 1).
int fk_cpu_count(void);

#ifdef __cplusplus
}
#endif

#endif
