#!/bin/sh
# A program built against this header, run on the shared library of the last release
# (docs/ABI.md): builds that release's library from the git history into DIR (once), compiles
# tests/abi/old_caller.c, new_caller.c and new_on_old.c against the current header and runs them
# on it; new_on_old runs on this library too. Ends with `N passed, N failed`.
# Usage: older_lib.sh COMMIT VERSION DIR CC "CFLAGS" THIS_LIBDIR
set -u
commit=$1 version=$2 dir=$3 cc=$4 cflags=$5 this=$6
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! git -C "$root" cat-file -e "$commit^{commit}" 2>/dev/null; then
  echo "SKIP: libavengers $version ($commit) is not in this checkout's git history (a release"
  echo "      tarball or a shallow clone); the older-library check needs it"
  echo "0 passed, 0 failed"
  exit 0
fi
lib=$dir/src/lib
if [ ! -e "$lib/libavengers.so.1" ]; then
  rm -rf "$dir" && mkdir -p "$dir/src" || exit 1
  git -C "$root" archive "$commit" | tar -x -C "$dir/src" || exit 1
  echo "building libavengers $version from $commit in $dir/src"
  make -C "$dir/src" --no-print-directory -s shared >"$dir/build.log" 2>&1 ||
    { echo "FAIL building libavengers $version (see $dir/build.log)"; echo "0 passed, 1 failed"; exit 1; }
fi
p=0 f=0
tally() { # label, output, exit code: print the failures, add the summary line's counts
  echo "$2" | sed "s/^/  [$1] /" | grep -v "^  \[[^]]*\] ok "
  np=$(echo "$2" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -1)
  nf=$(echo "$2" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -1)
  [ -n "$np" ] || { np=0; nf=1; }
  [ "$3" -eq 0 ] || [ "$nf" -gt 0 ] || nf=1
  p=$((p + np)); f=$((f + nf))
}
run() { # name, library dir, label
  out=$(LD_LIBRARY_PATH=$2 "$dir/$1" 2>&1); rc=$?
  tally "$1 on $3" "$out" $rc
}
for t in old_caller new_caller new_on_old; do
  # shellcheck disable=SC2086
  $cc $cflags -std=c11 -D_POSIX_C_SOURCE=200809L -I"$root/include" -I"$root/tests" \
    -o "$dir/$t" "$root/tests/abi/$t.c" -L"$lib" -lavengers || { f=$((f + 1)); continue; }
  run "$t" "$lib" "libavengers $version"
done
run new_on_old "$this" "this library"
# the Python binding of this checkout on both libraries (skipped without Debian's numpy)
py=${PYTHON:-/usr/bin/python3}
if "$py" -c "import numpy" 2>/dev/null; then
  pyrun() { # library file, expected version, label
    out=$(AVENGERS_LIB=$1 "$py" "$root/tests/abi/binding_on_old.py" "$2" 2>&1); rc=$?
    tally "python binding on $3" "$out" $rc
  }
  pyrun "$lib/libavengers.so.1" "$version" "libavengers $version"
  this_version=$(sed -n 's/^#define AV_VERSION_STRING "\(.*\)"$/\1/p' "$root/include/avengers/avengers.h")
  pyrun "$this/libavengers.so.1" "$this_version" "this library"
else
  echo "  (python binding on libavengers $version: skipped, $py has no numpy)"
fi
echo "$p passed, $f failed"
[ $f -eq 0 ]
