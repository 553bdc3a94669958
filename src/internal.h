/* Every layer's private header, for white-box tests, benchmarks and tools that link the static
   library. The library's own sources never include this: each includes its layer's header
   (tools/check_layers.py). */
#ifndef AV_INTERNAL_H
#define AV_INTERNAL_H

#include "io/io.h"
#include "train/train.h"

#endif
