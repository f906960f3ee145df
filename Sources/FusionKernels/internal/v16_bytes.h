// Loads of float32 data at any byte address, on the 16-lane layer of the current instruction
// set (included by isa/kernels_<isa>.c after its isa_*.h). Weights are read in place from a
// memory-mapped archive, where numpy's `savez` puts members at arbitrary offsets: such data
// is never read through a `float *`, only copied bytewise (memcpy), which the compiler turns
// into unaligned vector loads. No undefined behaviour at any address.

/// The 16 floats starting at byte address `p`.
FK_V16_INLINE v16 v16_load_bytes(const unsigned char *p) {
    float t[16];
    memcpy(t, p, sizeof t);
    return v16_load(t);
}

/// Lanes [lo, hi) ∩ [0, 16) from the 16 floats starting at byte address `p`; the other lanes
/// are +0 and their bytes are not read.
FK_V16_INLINE v16 v16_load_bytes_range(const unsigned char *p, ptrdiff_t lo, ptrdiff_t hi) {
    float t[16] = {0};
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi > lo) memcpy(t + lo, p + lo * (ptrdiff_t)sizeof(float), (size_t)(hi - lo) * sizeof(float));
    return v16_load(t);
}
