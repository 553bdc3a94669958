/* The hand-computed router several unit tests share: three clusters on the unit axes of the plane,
   two models.
     c0 (1,0):  small 10, 2, 1    large 10, 9, 10   -> p = (0.2, 0.9), q = (0.1, 1.0)
     c1 (0,1):  small 10, 8, 1    large 10, 9, 10   -> p = (0.8, 0.9), q = (0.1, 1.0)
     c2 (-1,0): small 10, 5, 1    large  0, 0, 0    -> large takes its global mean (0.9, 1.0)
   (count, sum of scores, sum of costs). Global means: small 15/30 = 0.5 score, 3/30 = 0.1 cost;
   large 18/20 = 0.9, 20/20 = 1.0. */
#ifndef AV_TEST_TINY_H
#define AV_TEST_TINY_H

#include "avengers/avengers.h"

static const char *const NAMES2[] = {"small", "large"};

static inline av_router *tiny_router(uint32_t top_p)
{
    const float C[] = {1, 0, 0, 1, -1, 0};
    const double cnt[] = {10, 10, 10, 10, 10, 0};
    const double ss[] = {2, 9, 8, 9, 5, 0};
    const double sc[] = {1, 10, 1, 10, 1, 0};
    av_router *r = NULL;
    return av_router_from_parts(&r, 2, 3, 2, NAMES2, C, cnt, ss, sc, top_p) == AV_OK ? r : NULL;
}

#endif
