// Reporting of broken caller contracts.
#include "internal/fk_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void fk_fail(const char *function, const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "FusionKernels: %s: ", function);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    fflush(stderr);
    abort();
}
