// The CPUs this process may run on (see fk_cpu_count.h).
#define _GNU_SOURCE
#include "fk_cpu_count.h"

#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif

int fk_cpu_active_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
#endif
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}
