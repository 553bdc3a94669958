#!/bin/sh
# The install check (make check-install): install into a temporary prefix, build the C and C++
# examples against it with nothing but `pkg-config --cflags --libs avengers`, run the Python package
# that `make install` installed (from outside the repository, without AVENGERS_LIB), the package
# installed into a venv by pip (offline), and a Rust crate whose only dependency is `avengers` by
# path, all against the installed library; compare every language's decisions, check the
# relocatable .pc and when install runs ldconfig, then uninstall and check that nothing the install
# created remains. Ends with `N passed, N failed`.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MAKE=${MAKE:-make}; CC=${CC:-cc}; CXX=${CXX:-c++}; PYTHON=${PYTHON:-/usr/bin/python3}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/avengers-install.XXXXXX")
prefix=$tmp/prefix
passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; [ -f "$tmp/log" ] && tail -n 20 "$tmp/log"; }
check() { name=$1; shift; if "$@" >"$tmp/log" 2>&1; then ok "$name"; else fail "$name"; fi; }
finish() { rm -rf "$tmp"; echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

cd "$ROOT" || exit 1
if ! $MAKE --no-print-directory -s install PREFIX="$prefix" DESTDIR= >"$tmp/log" 2>&1; then
  fail "make install PREFIX=$prefix"; finish; fi
cp "$tmp/log" "$tmp/install.log"
ok "make install PREFIX=<tmp>"
(cd "$prefix" && find . -type f -o -type l | sort) >"$tmp/installed"

lib=$prefix/lib
check "header avengers.h installed" test -f "$prefix/include/avengers/avengers.h"
check "header avengers.hpp installed" test -f "$prefix/include/avengers/avengers.hpp"
check "static library installed" test -f "$lib/libavengers.a"
check "libavengers.so -> libavengers.so.MAJOR symlinks" sh -c \
  "test -L '$lib/libavengers.so' && test -L '$lib/libavengers.so.1' && test -f \"\$(readlink -f '$lib/libavengers.so')\""
check "SONAME is libavengers.so.1" sh -c "readelf -d '$lib/libavengers.so' | grep -q 'SONAME.*\[libavengers.so.1\]'"
check "man page libavengers(3) installed" test -f "$prefix/share/man/man3/libavengers.3"
check "command avengers and avengers(1) installed" sh -c \
  "test -x '$prefix/bin/avengers' && test -f '$prefix/share/man/man1/avengers.1'"
check "pkg-config file points into the prefix" sh -c \
  "PKG_CONFIG_PATH='$lib/pkgconfig' $PKG_CONFIG --variable=libdir avengers | grep -qx '$lib'"
check "the .pc is relocatable (libdir=\${prefix}/lib, includedir=\${prefix}/include)" sh -c \
  "grep -qx 'libdir=\${prefix}/lib' '$lib/pkgconfig/avengers.pc' && \
   grep -qx 'includedir=\${prefix}/include' '$lib/pkgconfig/avengers.pc'"
# A moved copy of the tree: pkg-config --define-prefix derives the prefix from the .pc's place.
check "a moved prefix: pkg-config --define-prefix reports the new libdir" sh -c \
  "cp -a '$prefix' '$tmp/moved' && \
   PKG_CONFIG_PATH='$tmp/moved/lib/pkgconfig' $PKG_CONFIG --define-prefix --variable=libdir avengers \
     | grep -qx '$tmp/moved/lib' && rm -rf '$tmp/moved'"
# ldconfig: not for this private prefix (install says how to find the library instead), never for
# a staged install, and for a directory the loader searches (a stand-in ldconfig records the call).
check "install into a private prefix explains rpath / LD_LIBRARY_PATH instead of ldconfig" sh -c \
  "grep -q 'not on the system loader.s path' '$tmp/install.log' && grep -q 'LD_LIBRARY_PATH=$lib' '$tmp/install.log'"
check "ldconfig runs for a system library directory, not for a staged install" sh -c \
  "LDCONFIG='touch $tmp/ldconfig-ran' tools/ldconfig-after-install.sh /usr/local/lib && test -f '$tmp/ldconfig-ran' && \
   rm '$tmp/ldconfig-ran' && LDCONFIG='touch $tmp/ldconfig-ran' tools/ldconfig-after-install.sh /usr/local/lib /stage && \
   LDCONFIG='touch $tmp/ldconfig-ran' tools/ldconfig-after-install.sh '$lib' && test ! -e '$tmp/ldconfig-ran'"

# Build the examples with nothing but pkg-config (no -I/-L into the repository).
flags=$(PKG_CONFIG_PATH="$lib/pkgconfig" $PKG_CONFIG --cflags --libs avengers)
check "examples/c/route.c builds against the install" \
  $CC -std=c11 -Wall -Wextra -Werror examples/c/route.c $flags -Wl,-rpath,"$lib" -o "$tmp/route_c"
check "examples/cpp/route.cpp builds against the install" \
  $CXX -std=c++17 -Wall -Wextra -Werror examples/cpp/route.cpp $flags -Wl,-rpath,"$lib" -o "$tmp/route_cpp"
check "the example loads the installed libavengers" sh -c \
  "ldd '$tmp/route_c' | grep 'libavengers.so.1 => $lib/'"

# Python from outside the repository: the package `make install` put into the prefix (PYTHONPATH
# is that directory only, no AVENGERS_LIB), which must load the installed library: train a router
# on the fixture, save it, check zero-copy passing and route; its decisions are the reference below.
mkdir -p "$tmp/run"
cat >"$tmp/run/py_check.py" <<'PY'
import os, sys
import numpy as np
import avengers
lib, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
assert "AVENGERS_LIB" not in os.environ
assert os.path.realpath(avengers.library_path()) == os.path.realpath(lib), avengers.library_path()
assert os.path.realpath(avengers.__file__).startswith(os.path.realpath(sys.argv[4])), avengers.__file__
pkg = os.path.dirname(avengers.__file__)
assert os.path.exists(os.path.join(pkg, "py.typed")) and os.path.exists(os.path.join(pkg, "__init__.pyi"))
emb = np.load(os.path.join(data, "emb.npy"))
sc, co = np.load(os.path.join(data, "scores.npy")), np.load(os.path.join(data, "costs.npy"))
tr = np.load(os.path.join(data, "split.npy")) == 1
models = open(os.path.join(data, "models.txt")).read().split()
with avengers.Builder(emb.shape[1], models) as b:
    b.add_many(emb[tr], sc[tr], co[tr])
    r = b.fit(n_clusters=20, n_init=2, seed=7)
r.save(os.path.join(out, "r.avr"))
seen = []
real = avengers._native.av_route_batch
avengers._native.av_route_batch = lambda *a: (seen.append(a), real(*a))[1]
want = r.route_batch(emb, 0.7)
big = np.zeros((len(emb), 512), np.float32); big[:, :emb.shape[1]] = emb
assert (r.route_batch(big[:, :emb.shape[1]], 0.7) == want).all()
assert seen[-1][1] == big.ctypes.data and seen[-1][4] == 512, "strided view was copied"
assert (r.route_batch(np.asfortranarray(emb), 0.7) == want).all()  # converted once
with open(os.path.join(out, "py.txt"), "w") as f:
    for i, m in enumerate(want):
        f.write("%d\t%s\n" % (i, r.models[m]))
print("python ok", avengers.version(), len(want))
PY
pydir=$($PYTHON tools/python_site.py "$prefix")
check "installed Python package, outside the repo, no AVENGERS_LIB (zero-copy view)" sh -c \
  "cd '$tmp/run' && env -u AVENGERS_LIB -u LD_LIBRARY_PATH PYTHONPATH='$pydir' \
   $PYTHON py_check.py '$lib/libavengers.so' '$ROOT/tests/data/llm9' '$tmp/run' '$prefix'"
# The documented pip route, offline: a venv that sees Debian's numpy and setuptools, pip without
# build isolation or an index; the library is then found through pkg-config.
if $PYTHON -c 'import ensurepip, setuptools' >/dev/null 2>&1; then
  check "python3 -m venv --system-site-packages + pip install --no-build-isolation (offline)" sh -c \
    "$PYTHON -m venv --system-site-packages '$tmp/venv' && \
     '$tmp/venv/bin/python' -m pip install -q --no-index --no-build-isolation '$ROOT/bindings/python' && \
     cd '$tmp/run' && mkdir -p venv-out && env -u AVENGERS_LIB -u LD_LIBRARY_PATH -u PYTHONPATH \
       PKG_CONFIG_PATH='$lib/pkgconfig' '$tmp/venv/bin/python' py_check.py '$lib/libavengers.so' \
       '$ROOT/tests/data/llm9' '$tmp/run/venv-out' '$tmp/venv' && cmp venv-out/py.txt py.txt"
else
  echo "skip the venv + pip route (Debian: apt-get install python3-venv python3-setuptools)"
fi
check "C example decisions == Python's" sh -c \
  "'$tmp/route_c' '$tmp/run/r.avr' tests/data/llm9/emb.npy 0.7 > '$tmp/c.txt' && cmp '$tmp/c.txt' '$tmp/run/py.txt'"
check "C++ example decisions == Python's" sh -c \
  "'$tmp/route_cpp' '$tmp/run/r.avr' tests/data/llm9/emb.npy 0.7 > '$tmp/cpp.txt' && cmp '$tmp/cpp.txt' '$tmp/run/py.txt'"

# Rust: a crate of a user, outside the workspace, whose only dependency is `avengers` by path (no
# build script, no avengers-sys), built offline against the install through pkg-config; its
# binary runs as it is (libavengers.a linked in by default) and decides as Python did. Then the
# same crate with the `dynamic` feature, which runs with the library on LD_LIBRARY_PATH.
CARGO=${CARGO:-cargo}
if command -v "$CARGO" >/dev/null 2>&1; then
  app=$tmp/app
  mkdir -p "$app/src"
  cp examples/rust/src/main.rs "$app/src/main.rs"
  cat >"$app/Cargo.toml" <<TOML
[package]
name = "user-app"
version = "0.1.0"
edition = "2021"

[dependencies]
avengers = { path = "$ROOT/bindings/rust/avengers" }
TOML
  rust_env="AVENGERS_USE_PKG_CONFIG=1 PKG_CONFIG_PATH='$lib/pkgconfig' CARGO_TARGET_DIR='$tmp/cargo'"
  check "Rust crate with only a path dependency builds offline and runs as it is" sh -c \
    "cd '$app' && env -u AVENGERS_LIB_DIR $rust_env $CARGO build --offline -q && \
     ! ldd '$tmp/cargo/debug/user-app' | grep -q libavengers && \
     env -u LD_LIBRARY_PATH '$tmp/cargo/debug/user-app' '$tmp/run/r.avr' '$ROOT/tests/data/llm9/emb.npy' 0.7 \
       > '$tmp/rs.txt' && cmp '$tmp/rs.txt' '$tmp/run/py.txt'"
  check "the same crate with feature dynamic links the installed libavengers.so.1" sh -c \
    "cd '$app' && sed -i 's|^avengers = .*|avengers = { path = \"$ROOT/bindings/rust/avengers\", features = [\"dynamic\"] }|' Cargo.toml && \
     env -u AVENGERS_LIB_DIR $rust_env $CARGO build --offline -q && \
     LD_LIBRARY_PATH='$lib' ldd '$tmp/cargo/debug/user-app' | grep -q 'libavengers.so.1 => $lib/' && \
     LD_LIBRARY_PATH='$lib' '$tmp/cargo/debug/user-app' '$tmp/run/r.avr' '$ROOT/tests/data/llm9/emb.npy' 0.7 \
       > '$tmp/rs-dyn.txt' && cmp '$tmp/rs-dyn.txt' '$tmp/run/py.txt'"
else
  echo "skip Rust example against the install ($CARGO not found)"
fi

# Uninstall: every file and symlink the install created must be gone.
if $MAKE --no-print-directory -s uninstall PREFIX="$prefix" DESTDIR= >"$tmp/log" 2>&1; then
  ok "make uninstall"; else fail "make uninstall"; fi
left=$(cd "$prefix" && find . -type f -o -type l | sort)
if [ -z "$left" ]; then ok "uninstall removed all $(wc -l <"$tmp/installed") installed files"
else echo "left behind:"; echo "$left"; fail "uninstall left files behind"; fi

# A staged install (packagers): DESTDIR prefixes every path, the .pc keeps the real prefix.
stage=$tmp/stage
check "make install DESTDIR=<stage> PREFIX=/usr/local stays inside the stage" sh -c \
  "$MAKE --no-print-directory -s install DESTDIR='$stage' PREFIX=/usr/local && \
   test -f '$stage/usr/local/lib/libavengers.a' && \
   grep -qx 'prefix=/usr/local' '$stage/usr/local/lib/pkgconfig/avengers.pc' && \
   $MAKE --no-print-directory -s uninstall DESTDIR='$stage' PREFIX=/usr/local && \
   test -z \"\$(find '$stage' -type f -o -type l)\""
finish
