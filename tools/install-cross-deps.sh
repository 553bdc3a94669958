#!/bin/sh
# Install the cross toolchains, emulators and target libraries that `make cross-check` uses
# (docs/PORTABILITY.md), from Debian packages. Run as root. Idempotent.
#   i686     gcc-i686-linux-gnu (static test binaries)
#   s390x    gcc-s390x-linux-gnu, run under qemu-s390x-static
#   aarch64  gcc-aarch64-linux-gnu, run under qemu-aarch64-static
#   i686 runs under qemu-i386-static where the kernel lacks 32-bit support.
#   wasm     emscripten (and binaryen; nodejs only when no `node` is on PATH), run under Node.js;
#            its zlib is built from Debian's zlib source package with emcc (see below)
#   windows  gcc-mingw-w64-x86-64 and libz-mingw-w64-dev (zlib for MinGW), run under wine64 (and
#            wine); the command's cJSON is Debian's cjson source package (apt-get source, from a
#            deb-src list of its own), unpacked with its Debian patches into
#            CROSS_ZLIB_ROOT/x86_64-w64-mingw32/cjson and compiled by `make cross-build-windows`.
# The Linux targets' static zlib comes from Debian's zlib1g-dev of that architecture, unpacked
# into CROSS_ZLIB_ROOT/<triplet> rather than installed through multiarch: a multiarch install
# needs the very same version as the host's zlib1g, which the mirror does not always carry for
# every architecture (bookworm-security has no s390x).
set -e
[ "$(id -u)" -eq 0 ] || { echo "run as root (apt-get)"; exit 1; }
export DEBIAN_FRONTEND=noninteractive
ROOT=${CROSS_ZLIB_ROOT:-/opt/avengers-cross}
PKGS="gcc-i686-linux-gnu libc6-dev-i386-cross gcc-s390x-linux-gnu libc6-dev-s390x-cross
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static emscripten binaryen dpkg-dev
      gcc-mingw-w64-x86-64 libz-mingw-w64-dev wine64 wine"
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
need_zlib=""
for pair in i386:i686-linux-gnu s390x:s390x-linux-gnu arm64:aarch64-linux-gnu; do
  [ -f "$ROOT/${pair#*:}/lib/libz.a" ] || need_zlib="$need_zlib $pair"
done
need_wasm_zlib=""
[ -f "$ROOT/wasm32-emscripten/lib/libz.a" ] || need_wasm_zlib=1
CJSON_DIR=$ROOT/x86_64-w64-mingw32/cjson
need_cjson=""
[ -f "$CJSON_DIR/cJSON.c" ] || need_cjson=1
[ -z "$missing$need_zlib$need_wasm_zlib$need_cjson" ] && { echo "cross dependencies present"; exit 0; }
for pair in $need_zlib; do
  a=${pair%%:*}
  dpkg --print-foreign-architectures | grep -qx "$a" || dpkg --add-architecture "$a"
done
apt-get update -qq
[ -n "$missing" ] && { echo "installing:$missing"; apt-get install -y -qq --no-install-recommends $missing; }
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
for pair in $need_zlib; do
  a=${pair%%:*}; t=${pair#*:}
  (cd "$tmp" && apt-get download -qq "zlib1g-dev:$a" 2>&1 | grep -v "unsandboxed" || true)
  mkdir -p "$tmp/$a" "$ROOT/$t/lib" "$ROOT/$t/include"
  dpkg-deb -x "$tmp"/zlib1g-dev_*_"$a".deb "$tmp/$a"
  cp "$tmp/$a"/usr/lib/*/libz.a "$ROOT/$t/lib/"
  cp "$tmp/$a"/usr/include/zlib.h "$tmp/$a"/usr/include/zconf.h "$ROOT/$t/include/" 2>/dev/null ||
    cp "$tmp/$a"/usr/include/*/zconf.h "$tmp/$a"/usr/include/zlib.h "$ROOT/$t/include/"
  echo "zlib for $a in $ROOT/$t"
done

# WebAssembly: Debian has no zlib built for wasm and Emscripten's USE_ZLIB port downloads from the
# internet, so zlib is compiled with emcc from Debian's own zlib source package (the source of the
# host's libz, fetched through apt with deb-src entries in a private list; nothing is committed to
# this repository). Debian's emcc runs its JavaScript tools with `node`, which finds Debian's
# node-acorn only through NODE_PATH when `node` is not Debian's own.
if [ -n "$need_wasm_zlib" ]; then
  src="$tmp/zlib-src"; mkdir -p "$src/lists/partial" "$src/parts"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$src/parts/$(basename "$f")"
  done
  [ -f /etc/apt/sources.list ] && sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$src/parts/main.list"
  opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$src/parts -o Dir::State::Lists=$src/lists"
  aptsrc="apt-get -qq $opts"
  $aptsrc update 2>&1 | grep -v unsandboxed || true
  # the newest version first; a security update's sources are not on every mirror
  ok=""
  for v in "" $(apt-cache $opts showsrc zlib 2>/dev/null | sed -n 's/^Version: //p' | sort -r -u -V); do
    (cd "$src" && $aptsrc source --download-only "zlib${v:+=$v}" 2>&1 | grep -v unsandboxed) || true
    ls "$src"/zlib_*.dsc >/dev/null 2>&1 && ok=1 && break
  done
  [ -n "$ok" ] || { echo "could not fetch Debian's zlib source package"; exit 1; }
  (cd "$src" && dpkg-source -x --no-check zlib_*.dsc zlib >/dev/null)
  out="$ROOT/wasm32-emscripten"; mkdir -p "$out/lib" "$out/include"
  (cd "$src/zlib" && NODE_PATH=${NODE_PATH:-/usr/share/nodejs} emcc -O2 -c adler32.c compress.c \
     crc32.c deflate.c inffast.c inflate.c inftrees.c trees.c uncompr.c zutil.c &&
   emar rcs "$out/lib/libz.a" *.o && cp zlib.h zconf.h "$out/include/")
  echo "zlib for wasm in $out (from $(ls "$src"/zlib_*.dsc | xargs basename))"
fi

# Windows: the command's cJSON from Debian's cjson source package (nothing committed).
if [ -n "$need_cjson" ]; then
  # deb-src lines of our own (the system's lists may have none), in a private apt state directory
  . /etc/os-release
  mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial" "$tmp/src"
  for s in "debian $VERSION_CODENAME" "debian-security $VERSION_CODENAME-security"; do
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/${s% *} ${s#* } main"
  done > "$tmp/apt/sources.list"
  O="-o Dir::Etc::SourceList=$tmp/apt/sources.list -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists=$tmp/apt/lists -o Dir::Cache=$tmp/apt/cache"
  apt-get $O update -qq
  (cd "$tmp/src" && apt-get $O source --download-only -qq cjson 2>&1 | grep -v "unsandboxed" || true)
  (cd "$tmp/src" && dpkg-source -q -x cjson_*.dsc cjson)
  mkdir -p "$CJSON_DIR"
  cp "$tmp/src/cjson/cJSON.c" "$tmp/src/cjson/cJSON.h" "$tmp/src/cjson/LICENSE" "$CJSON_DIR/"
  echo "cJSON source ($(cd "$tmp/src" && ls cjson_*.dsc)) in $CJSON_DIR"
fi
