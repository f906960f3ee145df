#ifndef CRCFOLD_H
#define CRCFOLD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// CRC-32 of the zip format (reflected polynomial 0xEDB88320, with the initial and final
/// complement): `crc_fold_crc32(crc, p, n)` continues `crc` (0 to start) over n bytes at p, as
/// zlib's crc32 and libdeflate_crc32 do, with the same result for every input.
///
/// On CPUs with AVX-512 and VPCLMULQDQ, buffers of 256 bytes or more are folded 256 bytes per
/// step with carry-less multiplies (four 512-bit accumulators; fast enough that one core is
/// bound by memory bandwidth); shorter buffers, the tail and other CPUs use libdeflate.
/// `p` may have any alignment. Thread-safe.
uint32_t crc_fold_crc32(uint32_t crc, const void *p, size_t n);

/// 1 when `crc_fold_crc32` folds with VPCLMULQDQ on this CPU, 0 when it uses libdeflate only.
int crc_fold_uses_vpclmulqdq(void);

/// The folding path alone, for tests: the same as `crc_fold_crc32` but traps (abort) when the CPU
/// lacks AVX-512 or VPCLMULQDQ.
uint32_t crc_fold_crc32_vpclmulqdq(uint32_t crc, const void *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif
