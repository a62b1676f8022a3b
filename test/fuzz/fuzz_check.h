/* The fuzz targets' shared check: on a failed condition, prints the
 * target (FUZZ_TARGET, defined before including this), the condition and
 * a printf-style account of the input, then aborts so that libFuzzer
 * keeps the input as a crash artifact. */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...) do {                                             \
        if (!(cond)) {                                                    \
            fprintf(stderr, FUZZ_TARGET ": check failed: %s\n  ", #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n");                                        \
            abort();                                                      \
        }                                                                 \
    } while (0)

#endif
