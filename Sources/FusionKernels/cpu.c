// Run-time choice of the instruction-set path (see fk_cpu.h).
#include "internal/fk_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic int fk_detected_cache = -1;
static _Atomic int fk_current = -1;

fk_cpu_level fk_cpu_detected(void) {
    int level = atomic_load_explicit(&fk_detected_cache, memory_order_relaxed);
    if (level >= 0) return (fk_cpu_level)level;
    __builtin_cpu_init();
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const int avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                       __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
                       __builtin_cpu_supports("avx512vl");
    level = avx512 ? FK_CPU_AVX512 : avx2 ? FK_CPU_AVX2 : FK_CPU_SCALAR;
    atomic_store_explicit(&fk_detected_cache, level, memory_order_relaxed);
    return (fk_cpu_level)level;
}

/// The level named by FK_CPU_LEVEL, or -1 when it is unset or unknown.
static int fk_level_from_environment(void) {
    const char *name = getenv("FK_CPU_LEVEL");
    if (name == NULL) return -1;
    for (int level = FK_CPU_SCALAR; level <= FK_CPU_AVX512; level++)
        if (strcmp(name, fk_cpu_level_name((fk_cpu_level)level)) == 0) return level;
    return -1;
}

fk_cpu_level fk_cpu_level_current(void) {
    int level = atomic_load_explicit(&fk_current, memory_order_relaxed);
    if (level >= 0) return (fk_cpu_level)level;
    level = fk_cpu_detected();
    const int requested = fk_level_from_environment();
    if (requested >= 0 && requested < level) level = requested;
    atomic_store_explicit(&fk_current, level, memory_order_relaxed);
    return (fk_cpu_level)level;
}

fk_cpu_level fk_cpu_set_level(fk_cpu_level requested) {
    int level = fk_cpu_detected();
    if ((int)requested >= FK_CPU_SCALAR && (int)requested < level) level = requested;
    atomic_store_explicit(&fk_current, level, memory_order_relaxed);
    return (fk_cpu_level)level;
}

const char *fk_cpu_level_name(fk_cpu_level level) {
    switch (level) {
    case FK_CPU_SCALAR: return "scalar";
    case FK_CPU_AVX2: return "avx2";
    case FK_CPU_AVX512: return "avx512";
    }
    return "unknown";
}
