/* Shared by the fuzz targets: the libFuzzer entry point's prototype (each target defines it; the
   standalone replayer in replay.c or libFuzzer calls it) and a crash that survives NDEBUG. */
#ifndef AV_FUZZ_H
#define AV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the library was broken: report and abort so that libFuzzer (or the replayer)
   records the input. */
#define FUZZ_ASSERT(cond)                                                                 \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

#endif
