// fk_gemm, fk_gemm_unpacked and fk_gemm_io: contract checks and dispatch (the kernels are
// bodies/gemm_body.h, bodies/gemm_unpacked_body.h and bodies/gemm_io_body.h).
#include "internal/fk_internal.h"

#include <pthread.h>
#include <stdlib.h>

/// The checks every GEMM entry point makes before its strides: x, bias and y aligned for a float,
/// and the weight too when `weight_aligned` (a packed copy; weights read in place may lie at any
/// byte address; `weight` names it), both sizes at least 1. `function` names the entry point.
static void check_gemm_operands(const char *function, const float *x, const char *weight, const void *w,
                                int weight_aligned, const float *bias, const float *y, ptrdiff_t in,
                                ptrdiff_t out) {
    fk_check_aligned(function, "x", x);
    if (weight_aligned) fk_check_aligned(function, weight, w);
    fk_check_aligned(function, "bias", bias);
    fk_check_aligned(function, "y", y);
    if (in < 1 || out < 1)
        fk_fail(function, "in = %td and out = %td must both be at least 1", in, out);
}

/// The checks every GEMM entry point makes after its strides: row and column ranges, the activation.
/// Returns whether there is anything to compute.
static int check_gemm_ranges(const char *function, ptrdiff_t out, fk_activation act, ptrdiff_t row_begin,
                             ptrdiff_t row_end, ptrdiff_t col_begin, ptrdiff_t col_end) {
    if (row_begin < 0 || row_end < row_begin)
        fk_fail(function, "row range [%td, %td) is not a range of non-negative indices", row_begin,
                row_end);
    if (col_begin < 0 || col_end < col_begin || col_end > out)
        fk_fail(function, "column range [%td, %td) is not inside [0, out = %td)", col_begin, col_end,
                out);
    if ((unsigned)act > FK_ACT_GELU_TANH) fk_fail(function, "unknown activation %d", (int)act);
    return row_begin != row_end && col_begin != col_end;
}

void fk_gemm(const float *x, ptrdiff_t ldx, const float *packed, ptrdiff_t in, ptrdiff_t out,
             const float *bias, fk_activation act, float *y, ptrdiff_t ldy,
             ptrdiff_t row_begin, ptrdiff_t row_end, ptrdiff_t col_begin, ptrdiff_t col_end) {
    check_gemm_operands(__func__, x, "packed", packed, 1, bias, y, in, out);
    if (ldx < in || ldy < out)
        fk_fail(__func__, "row strides ldx = %td (need >= in = %td) and ldy = %td (need >= out = %td)",
                ldx, in, ldy, out);
    if (!check_gemm_ranges(__func__, out, act, row_begin, row_end, col_begin, col_end)) return;
    if (x == NULL || packed == NULL || y == NULL)
        fk_fail(__func__, "x, packed and y must not be NULL (x = %p, packed = %p, y = %p)",
                (const void *)x, (const void *)packed, (void *)y);
    const fk_gemm_args args = {x, ldx, packed, NULL, 0, in, out, bias, act, y, ldy,
                               row_begin, row_end, col_begin, col_end};
    FK_DISPATCH(fk_gemm)(&args);
}

void fk_gemm_unpacked(const float *x, ptrdiff_t ldx, const void *w, ptrdiff_t ldw, ptrdiff_t in,
                      ptrdiff_t out, const float *bias, fk_activation act, float *y, ptrdiff_t ldy,
                      ptrdiff_t row_begin, ptrdiff_t row_end, ptrdiff_t col_begin,
                      ptrdiff_t col_end) {
    check_gemm_operands(__func__, x, "w", w, 0, bias, y, in, out);
    if (ldx < in || ldw < in || ldy < out)
        fk_fail(__func__, "row strides ldx = %td, ldw = %td (need >= in = %td) and ldy = %td (need >= out = %td)",
                ldx, ldw, in, ldy, out);
    if (!check_gemm_ranges(__func__, out, act, row_begin, row_end, col_begin, col_end)) return;
    if (x == NULL || w == NULL || y == NULL)
        fk_fail(__func__, "x, w and y must not be NULL (x = %p, w = %p, y = %p)", (const void *)x,
                (const void *)w, (void *)y);
    const fk_gemm_args args = {x, ldx, NULL, (const unsigned char *)w, ldw, in, out, bias, act, y, ldy,
                               row_begin, row_end, col_begin, col_end};
    FK_DISPATCH(fk_gemm_unpacked)(&args);
}

void fk_gemm_io(const float *x, ptrdiff_t ldx, const void *b, ptrdiff_t ldb, float scale, ptrdiff_t in,
                ptrdiff_t out, const float *bias, fk_activation act, float *y, ptrdiff_t ldy,
                ptrdiff_t row_begin, ptrdiff_t row_end, ptrdiff_t col_begin, ptrdiff_t col_end) {
    check_gemm_operands(__func__, x, "b", b, 0, bias, y, in, out);
    if (ldx < in || ldb < out || ldy < out)
        fk_fail(__func__, "row strides ldx = %td (need >= in = %td), ldb = %td and ldy = %td (need >= out = %td)",
                ldx, in, ldb, ldy, out);
    if (!check_gemm_ranges(__func__, out, act, row_begin, row_end, col_begin, col_end)) return;
    if (x == NULL || b == NULL || y == NULL)
        fk_fail(__func__, "x, b and y must not be NULL (x = %p, b = %p, y = %p)", (const void *)x,
                (const void *)b, (void *)y);
    const fk_gemm_io_args args = {x, ldx, (const unsigned char *)b, ldb, 1, scale, in, out, bias, act, y, ldy,
                                  row_begin, row_end, col_begin, col_end};
    FK_DISPATCH(fk_gemm_io)(&args);
}

void fk_gemm_inplace(const float *x, ptrdiff_t ldx, const void *w, ptrdiff_t ldw, int transposed, float scale,
                     ptrdiff_t in, ptrdiff_t out, const float *bias, fk_activation act, float *y, ptrdiff_t ldy,
                     ptrdiff_t row_begin, ptrdiff_t row_end, ptrdiff_t col_begin, ptrdiff_t col_end) {
    check_gemm_operands(__func__, x, "w", w, 0, bias, y, in, out);
    if (ldx < in || ldy < out || ldw < (transposed ? out : in))
        fk_fail(__func__, "row strides ldx = %td (need >= in = %td), ldw = %td (need >= %s = %td) and ldy = %td "
                "(need >= out = %td)", ldx, in, ldw, transposed ? "out" : "in", transposed ? out : in, ldy, out);
    if (!check_gemm_ranges(__func__, out, act, row_begin, row_end, col_begin, col_end)) return;
    if (x == NULL || w == NULL || y == NULL)
        fk_fail(__func__, "x, w and y must not be NULL (x = %p, w = %p, y = %p)", (const void *)x, w, (void *)y);
    const fk_gemm_io_args args = {x, ldx, (const unsigned char *)w, ldw, transposed != 0, scale, in, out,
                                  bias, act, y, ldy, row_begin, row_end, col_begin, col_end};
    FK_DISPATCH(fk_gemm_inplace)(&args);
}

static pthread_key_t fk_block_key;
static pthread_once_t fk_block_once = PTHREAD_ONCE_INIT;

static void fk_block_key_create(void) {
    // The destructor frees a thread's buffer when the thread ends (a pool's workers when the pool goes).
    if (pthread_key_create(&fk_block_key, free) != 0) fk_fail("fk_gemm_block_buffer", "pthread_key_create failed");
}

float *fk_gemm_block_buffer(void) {
    // One buffer per thread, made on first use and kept in thread-specific data until the thread ends.
    pthread_once(&fk_block_once, fk_block_key_create);
    float *buffer = pthread_getspecific(fk_block_key);
    if (buffer == NULL) {
        void *memory = NULL;
        if (posix_memalign(&memory, 64, FK_GEMM_BLOCK_FLOATS * sizeof(float)) != 0)
            fk_fail(__func__, "cannot allocate %zu bytes", (size_t)FK_GEMM_BLOCK_FLOATS * sizeof(float));
        if (pthread_setspecific(fk_block_key, memory) != 0) fk_fail(__func__, "pthread_setspecific failed");
        buffer = memory;
    }
    return buffer;
}
