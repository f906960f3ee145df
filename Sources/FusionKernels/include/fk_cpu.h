#ifndef FK_CPU_H
#define FK_CPU_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The vector instruction level a kernel path is compiled for.
///
/// Every kernel exists in three variants compiled into the same binary with
/// function-level target attributes (the target as a whole is built for the
/// baseline x86-64 CPU, so the binary never dies with SIGILL on an older CPU):
/// - `FK_CPU_SCALAR`: portable C, one lane at a time, `fmaf` for fused multiply-adds;
/// - `FK_CPU_AVX2`: AVX2 + FMA3 (256-bit registers, two per 16-lane vector);
/// - `FK_CPU_AVX512`: AVX-512 F/DQ/BW/VL (one 512-bit register per 16-lane vector).
///
/// All three paths run the same sequence of IEEE-754 single-precision operations
/// for every output element (a 16-lane abstraction is emulated on the narrower
/// paths, fused multiply-adds are fused on every path), so the paths are expected
/// to agree bit for bit; the tests check this, but callers should rely only on
/// bit-identity *within* one path.
typedef enum fk_cpu_level {
    FK_CPU_SCALAR = 0,
    FK_CPU_AVX2 = 1,
    FK_CPU_AVX512 = 2,
} fk_cpu_level;

/// The best level this CPU and operating system support (CPUID and XCR0 checked via
/// `__builtin_cpu_supports`). Cached after the first call; thread-safe.
fk_cpu_level fk_cpu_detected(void);

/// The level every kernel call dispatches to now. Initially `fk_cpu_detected()`,
/// lowered by the environment variable `FK_CPU_LEVEL` (`scalar`, `avx2` or
/// `avx512`) when it is set to a supported level, or by `fk_cpu_set_level`.
fk_cpu_level fk_cpu_level_current(void);

/// Makes kernels dispatch to `min(requested, fk_cpu_detected())` and returns the
/// level now in use. Not meant to be called while kernels run on other threads.
fk_cpu_level fk_cpu_set_level(fk_cpu_level requested);

/// A short lowercase name: "scalar", "avx2" or "avx512" ("unknown" otherwise).
const char *fk_cpu_level_name(fk_cpu_level level);

#ifdef __cplusplus
}
#endif

#endif
