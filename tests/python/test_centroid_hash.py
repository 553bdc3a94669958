"""The centroid hash (av_router_centroid_hash, Router.centroid_hash) is XXH64 with seed 0 of the
bytes docs/FORMAT.md lists ("The centroid hash"), recomputed here from the router file's own bytes
with numpy and the reference xxHash library (Debian's libxxhash0, through ctypes): files written by
this version, an ensemble, the compact storages, and the committed file written by libavengers
0.1.0 (whose stored FNV hash, if any, is never trusted)."""
import ctypes
import ctypes.util
import os
import struct

import numpy as np
import pytest

from conftest import ROOT, fit_fixture

GOLDEN_0_1 = os.path.join(ROOT, "tests", "cli", "golden", "router.avr")


def _xxh64():
    for name in ("libxxhash.so.0", ctypes.util.find_library("xxhash")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.XXH64.restype = ctypes.c_uint64
        lib.XXH64.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]
        return lambda b: lib.XXH64(b, len(b), 0)
    return None


XXH64 = _xxh64()
needs_xxhash = pytest.mark.skipif(XXH64 is None, reason="libxxhash (Debian libxxhash0) not found")


def expected_hash(path):
    """XXH64 of u64 dim, k, type (and members for an ensemble), the centroid values little-endian,
    and for int8 the row scales then the dimension scales, read from the file's centroid section."""
    f = open(path, "rb").read()
    dim, k = struct.unpack_from("<II", f, 16)
    nsec = struct.unpack_from("<I", f, 32)[0]
    for i in range(nsec):
        sid, enc, off, stored = struct.unpack_from("<IIQQ", f, 64 + 40 * i)
        if sid == 2:
            sec = f[off:off + stored]
            break
    ctype, flags = struct.unpack_from("<II", sec, 0)
    members, pos = 1, 8
    if flags & 2:
        members, pos = struct.unpack_from("<I", sec, 8)[0], 16
    head = struct.pack("<QQQ", dim, k, ctype) + (struct.pack("<Q", members) if members > 1 else b"")
    n = k * dim
    if ctype == 0:
        body = sec[pos:pos + 4 * n]
    elif ctype == 1:
        body = sec[pos:pos + 2 * n]
    else:
        rows = sec[pos:pos + 4 * k]
        pos += 4 * k
        if flags & 1:
            cols = sec[pos:pos + 4 * dim]
            pos += 4 * dim
        else:  # a 1.0 file: every dimension scale is 1
            cols = np.ones(dim, "<f4").tobytes()
        q = np.frombuffer(sec[pos:pos + n], np.int8).copy()
        q[q == -128] = -127  # what the loader stores
        body = q.tobytes() + rows + cols
    return "%016x" % XXH64(head + body)


@needs_xxhash
def test_hash_of_the_0_1_file(avengers):
    r = avengers.Router.load(GOLDEN_0_1)
    assert r.centroid_hash == expected_hash(GOLDEN_0_1) == "0418795cfc29f6c8"


@needs_xxhash
@pytest.mark.parametrize("ctype", ["f32", "f16", "int8"])
def test_hash_of_saved_files(avengers, router, tmp_path, ctype):
    r = router if ctype == "f32" else router.convert(ctype)
    p = str(tmp_path / ("r_%s.avr" % ctype))
    r.save(p)
    loaded = avengers.Router.load(p)
    assert loaded.centroid_hash == r.centroid_hash == expected_hash(p)


@needs_xxhash
def test_hash_of_an_ensemble_file(avengers, fx, tmp_path):
    ens = fit_fixture(avengers, fx, k=8, n_init=1, seed=3, top_p=2, members=2)
    p = str(tmp_path / "ens.avr")
    ens.save(p)
    assert avengers.Router.load(p).centroid_hash == ens.centroid_hash == expected_hash(p)
