// CRC-32 by folding with carry-less multiplication (the method of Gopal, Ozturk et al., "Fast
// CRC Computation for Generic Polynomials Using PCLMULQDQ Instruction", Intel, 2009), widened to
// 512-bit registers. Bits are reflected, as in the zip CRC: the low 64-bit half of each 128-bit
// lane holds the higher-degree coefficients.
//
// Four 512-bit accumulators hold a 256-byte window of the message (the running CRC complemented
// and XORed into its first 4 bytes), equal to the message read so far modulo P. Taking the next
// 256 bytes multiplies the window by x^2048 and adds them: every 128-bit lane (hi, lo) becomes
// lo·k(2048 + 32) ⊕ hi·k(2048 − 32) ⊕ next, where k(n) = reflect64((x^n mod P) << 32) << 1 (the
// paper's constants, for distance n). The same step with distance 512 merges the accumulators
// and takes single 64-byte blocks, and with distance 128 reduces the register to one 128-bit
// value v. The CRC of v as 16 message bytes from the zero state is then the CRC of everything
// taken; the last bytes (fewer than 64) go through libdeflate.
#include "CRCFold.h"

#include <libdeflate.h>
#include <stdlib.h>

#if defined(__x86_64__)
#include <immintrin.h>

/// k(n) for the fold distances used (the paper's values; the tests compare every length with zlib).
#define CRC_FOLD_K2080 0x11542778aULL
#define CRC_FOLD_K2016 0x1322d1430ULL
#define CRC_FOLD_K544 0x154442bd4ULL
#define CRC_FOLD_K480 0x1c6e41596ULL
#define CRC_FOLD_K160 0x1751997d0ULL
#define CRC_FOLD_K96 0x0ccaa009eULL

#define CRC_FOLD_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,vpclmulqdq,pclmul")))

/// One fold step on every 128-bit lane: lo·k_lo ⊕ hi·k_hi ⊕ next.
CRC_FOLD_TARGET static inline __m512i fold512(__m512i acc, __m512i k, __m512i next) {
    const __m512i lo = _mm512_clmulepi64_epi128(acc, k, 0x00);
    const __m512i hi = _mm512_clmulepi64_epi128(acc, k, 0x11);
    return _mm512_ternarylogic_epi64(lo, hi, next, 0x96);  // three-way XOR
}

CRC_FOLD_TARGET static uint32_t fold_crc32(uint32_t crc, const unsigned char *p, size_t n) {
    if (n < 256) return libdeflate_crc32(crc, p, n);
    const __m512i k2048 = _mm512_set_epi64(CRC_FOLD_K2016, CRC_FOLD_K2080, CRC_FOLD_K2016, CRC_FOLD_K2080,
                                           CRC_FOLD_K2016, CRC_FOLD_K2080, CRC_FOLD_K2016, CRC_FOLD_K2080);
    const __m512i k512 = _mm512_set_epi64(CRC_FOLD_K480, CRC_FOLD_K544, CRC_FOLD_K480, CRC_FOLD_K544,
                                          CRC_FOLD_K480, CRC_FOLD_K544, CRC_FOLD_K480, CRC_FOLD_K544);
    const __m128i k128 = _mm_set_epi64x((long long)CRC_FOLD_K96, (long long)CRC_FOLD_K160);
    // The running CRC enters as the complement XORed into the first four message bytes.
    __m512i a0 = _mm512_xor_si512(_mm512_loadu_si512((const void *)p),
                                  _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)~crc)));
    __m512i a1 = _mm512_loadu_si512((const void *)(p + 64));
    __m512i a2 = _mm512_loadu_si512((const void *)(p + 128));
    __m512i a3 = _mm512_loadu_si512((const void *)(p + 192));
    p += 256;
    n -= 256;
    for (; n >= 256; p += 256, n -= 256) {
        a0 = fold512(a0, k2048, _mm512_loadu_si512((const void *)p));
        a1 = fold512(a1, k2048, _mm512_loadu_si512((const void *)(p + 64)));
        a2 = fold512(a2, k2048, _mm512_loadu_si512((const void *)(p + 128)));
        a3 = fold512(a3, k2048, _mm512_loadu_si512((const void *)(p + 192)));
    }
    a0 = fold512(a0, k512, a1);
    a0 = fold512(a0, k512, a2);
    a0 = fold512(a0, k512, a3);
    for (; n >= 64; p += 64, n -= 64) a0 = fold512(a0, k512, _mm512_loadu_si512((const void *)p));
    __m128i v = _mm512_extracti32x4_epi32(a0, 0);
    const __m128i rest[3] = {_mm512_extracti32x4_epi32(a0, 1), _mm512_extracti32x4_epi32(a0, 2),
                             _mm512_extracti32x4_epi32(a0, 3)};
    for (int i = 0; i < 3; i++) {
        const __m128i lo = _mm_clmulepi64_si128(v, k128, 0x00);
        const __m128i hi = _mm_clmulepi64_si128(v, k128, 0x11);
        v = _mm_xor_si128(_mm_xor_si128(lo, hi), rest[i]);
    }
    unsigned char bytes[16];
    _mm_storeu_si128((__m128i *)(void *)bytes, v);
    // v's CRC from the zero state: libdeflate complements on entry and exit, so start it at ~0.
    const uint32_t folded = libdeflate_crc32(0xFFFFFFFFu, bytes, 16);
    return libdeflate_crc32(folded, p, n);
}

static int detect(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("vpclmulqdq") &&
           __builtin_cpu_supports("pclmul");
}
#else
static int detect(void) { return 0; }
#endif

int crc_fold_uses_vpclmulqdq(void) {
    static int cached = -1;  // -1: not detected yet; every thread that races here stores the same value
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        value = detect();
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

uint32_t crc_fold_crc32_vpclmulqdq(uint32_t crc, const void *p, size_t n) {
#if defined(__x86_64__)
    if (crc_fold_uses_vpclmulqdq()) return fold_crc32(crc, (const unsigned char *)p, n);
#endif
    abort();
}

uint32_t crc_fold_crc32(uint32_t crc, const void *p, size_t n) {
    if (n == 0) return crc;
#if defined(__x86_64__)
    if (n >= 256 && crc_fold_uses_vpclmulqdq()) return fold_crc32(crc, (const unsigned char *)p, n);
#endif
    return libdeflate_crc32(crc, p, n);
}
