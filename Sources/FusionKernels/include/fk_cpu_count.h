#ifndef FK_CPU_COUNT_H
#define FK_CPU_COUNT_H

#ifdef __cplusplus
extern "C" {
#endif

/// The number of CPUs this process may run on: its affinity mask on Linux (as `taskset` and
/// container CPU sets limit it), else the online processors; at least 1.
int fk_cpu_active_count(void);

#ifdef __cplusplus
}
#endif

#endif
