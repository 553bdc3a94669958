#!/bin/sh
# Run by `make install` after the library is in place: refresh the loader's cache when LIBDIR is
# one of the directories the system loader searches (a system prefix such as /usr/local), so that
# programs find libavengers.so.1 without an rpath. Never for a staged install (DESTDIR: packagers
# run ldconfig in their post-install step) nor for a private prefix, where it would not help: there
# it says what to do instead (docs/INSTALL.md). LDCONFIG names the program (tests use a stand-in).
# Usage: ldconfig-after-install.sh LIBDIR [DESTDIR]
libdir=$1; destdir=$2
LDCONFIG=${LDCONFIG:-ldconfig}
[ -n "$destdir" ] && exit 0
real=$(readlink -f "$libdir" 2>/dev/null || echo "$libdir")
# The directories the loader searches: ldconfig -v -N lists them (with -N it rebuilds nothing).
searched=$( (PATH="$PATH:/sbin:/usr/sbin" ldconfig -v -N 2>/dev/null) | sed -n 's|^\(/[^:]*\):.*|\1|p')
for d in $searched; do
  if [ "$(readlink -f "$d" 2>/dev/null || echo "$d")" = "$real" ]; then
    if [ "$(id -u)" = 0 ] || [ "$LDCONFIG" != ldconfig ]; then
      PATH="$PATH:/sbin:/usr/sbin" $LDCONFIG && echo "ldconfig: $libdir (a system library directory) refreshed"
    else
      echo "note: run ldconfig as root so that programs find $libdir/libavengers.so.1"
    fi
    exit 0
  fi
done
echo "note: $libdir is not on the system loader's path; programs find libavengers.so.1 there with"
echo "      -Wl,-rpath,$libdir at link time or LD_LIBRARY_PATH=$libdir (docs/INSTALL.md)"
