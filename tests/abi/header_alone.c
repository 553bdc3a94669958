/* The public header compiles alone (nothing included before it) as C99, C11 and, renamed by the
   build to .cpp, as C++17, with -Wall -Wextra -Wpedantic -Werror (mk/hardening.mk: check-headers).
   Using a few declarations makes sure they are seen, not just skipped. */
#include "avengers/avengers.h"

int av_header_alone_check(void);
int av_header_alone_check(void)
{
    av_fit_options o = AV_FIT_OPTIONS_INIT;
    unsigned (*version)(void) = av_version_number;
    return (int)o.struct_size + (version != 0) + AV_VERSION_NUMBER + (int)AV_ERRNO_LAST_;
}
