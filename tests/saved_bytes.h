/* Whether two routers save to the same bytes (av_router_save_buffer): the tests' "same router". */
#ifndef AV_TEST_SAVED_BYTES_H
#define AV_TEST_SAVED_BYTES_H

#include "avengers/avengers.h"

#include <stdbool.h>
#include <string.h>

static inline bool same_bytes(const av_router *a, const av_router *b)
{
    void *d1 = NULL, *d2 = NULL;
    size_t n1 = 0, n2 = 0;
    bool same = av_router_save_buffer(a, &d1, &n1) == AV_OK &&
                av_router_save_buffer(b, &d2, &n2) == AV_OK && n1 == n2 &&
                memcmp(d1, d2, n1) == 0;
    av_free(d1);
    av_free(d2);
    return same;
}

#endif
