#!/usr/bin/env python3
"""Seed corpus of the API-sequence fuzz target (tests/fuzz/fuzz_api.c): one program per operation
with ordinary arguments, and programs that reach the extreme values (the special-value tables,
raw bit patterns, huge sizes) in every argument that takes them.

The encoder below mirrors the target's reader byte for byte; change both together.
Usage: make_api_seeds.py [OUTDIR]   (default tests/fuzz/corpus/api; writes seed_*.bin files)
"""
import math
import os
import struct
import sys

# ---- the reader's tables (fuzz_api.c: special_d, special_sz) ----------------------------------
SPECIAL_D = {
    "0": 0, "-0": 1, "1": 2, "-1": 3, "0.5": 4, "2": 5, "1e308": 6, "-1e308": 7, "DBL_MAX": 8,
    "-DBL_MAX": 9, "4.9e-324": 10, "-4.9e-324": 11, "1e-310": 12, "DBL_MIN": 13, "nan": 14,
    "-nan": 15, "inf": 16, "-inf": 17, "1e300": 18, "-1e300": 19, "1e10": 20, "2^53": 21,
    "2^53+1": 22, "1e-300": 23, "0.25": 24, "1e-9": 25, "1e9": 26, "2^32": 27, "FLT_MAX": 28,
    "FLT_MIN": 29, "1e38": 30, "3.5e38": 31, "1e-45": 32, "0.999999": 33, "1.0000001": 34,
    "1e15": 35, "0.1": 36, "100": 37, "1e5": 38, "1e-5": 39,
}
SPECIAL_SZ = {
    0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 7: 6, 8: 7, 9: 8, 16: 9, 63: 10, 64: 11, 65: 12, 255: 13,
    256: 14, 257: 15, 1023: 16, 1024: 17, 1025: 18, 65535: 19, 65536: 20, 65537: 21, 100001: 22,
    100002: 23, 2**32 - 1: 24, 2**32 - 2: 25, 2**32: 26, 2**32 + 1: 27, 2**32 + 4: 28,
    2**31 - 1: 29, 2**31: 30, 2**64 - 1: 31,
}
N_SPECIAL_SZ = 32

OPS = ["update", "update_ex", "add_model", "top_p", "estimator", "meta", "merge", "convert",
       "route", "route_ex", "batch", "eval", "budget", "closure", "reload", "meta_bulk"]


def op(name):
    return bytes([OPS.index(name)])


def b(*xs):
    return bytes(xs)


def d(v):
    """A double argument: a special-table name, or a small exact value (k/32), or raw bits."""
    if isinstance(v, str):
        return b(SPECIAL_D[v])
    k = v * 32
    if k == int(k) and -128 <= k < 128 and not (v == 0 and math.copysign(1, v) < 0):
        return b(64, int(k) + 128)
    return b(40) + struct.pack("<d", v)


def f(v):
    """A float argument (same modes, 4 raw bytes)."""
    if isinstance(v, str):
        return b(SPECIAL_D[v])
    k = v * 32
    if k == int(k) and -128 <= k < 128 and not (v == 0 and math.copysign(1, v) < 0):
        return b(64, int(k) + 128)
    return b(40) + struct.pack("<f", v)


def fbits(u):
    return b(40) + struct.pack("<I", u)


def sz(v):
    if v in SPECIAL_SZ:
        return b(SPECIAL_SZ[v])
    assert 0 <= v < 16
    return b(N_SPECIAL_SZ + v)


def vec(xs):
    return b"".join(f(x) for x in xs)


# ---- program start ------------------------------------------------------------------------------
# Base routers (fuzz_api.c make_bases): 0 f32 d4 k4 m3; 1 f16; 2 int8; 3 ensemble d6 (3 x 2
# clusters) m4; 4 estimator defaults set; 5 f32 d8 k8 m6.
BASE_DIM = [4, 4, 4, 6, 4, 8]
PROBE = [1, 0.5, -1, 0.25, 0.75, -0.5, 2, 1]


def start_base(i, alpha=0.5):
    return b(2, i) + f(alpha) + vec(PROBE[:BASE_DIM[i]])


def q(dim, shift=0):
    return vec([PROBE[(t + shift) % 8] for t in range(dim)])


# ---- operations (argument order as the target reads them) --------------------------------------
def update(dim, model, score=1, cost=0.25, emb=None):
    return op("update") + (emb if emb is not None else q(dim)) + b(model + 1) + f(score) + f(cost)


def update_ex(dim, model, score=1, cost=0.25, half_life=None, top_p=None, weighting=None,
              temperature=None, weight=None, small_struct=None, repeat=None, many=None, emb=None):
    sel = 0
    tail = b""
    if half_life is not None:
        sel |= 1
        tail += d(half_life)
    if top_p is not None:
        sel |= 2
        tail += b(0, top_p) if isinstance(top_p, int) and top_p < 5 else b(200) + sz(top_p)
    if weighting is not None:
        sel |= 4
        tail += b(0, weighting) if weighting < 4 else b(200) + sz(weighting)
    if temperature is not None:
        sel |= 8
        tail += f(temperature)
    if weight is not None:
        sel |= 16
        tail += d(weight)
    if small_struct is not None:
        sel |= 32
        tail += b(small_struct)
    if repeat is not None:
        sel |= 64
        tail += b(repeat - 1)
    if many is not None:
        sel |= 128
        tail += b(many)  # (many % 5) * 300 updates
    return (op("update_ex") + (emb if emb is not None else q(dim)) + b(model + 1) + f(score) +
            f(cost) + b(sel) + tail)


def name_pool(k):
    return b(41 + k)  # take_name: how >= 40 and < 160 -> "m<how % 40>"


def name_bytes(raw):
    assert len(raw) < 12
    return b(160, len(raw)) + bytes(raw)


def add_model(name=None, score=0.5, cost=0.5, weight=1, dup=None, long=None):
    if dup is not None:
        head = b(dup)
    elif long is not None:
        head = b(32 + long)  # 32: 255 bytes, 33: 256 bytes
    else:
        head = b(40) + (name if name is not None else name_pool(1))
    return op("add_model") + head + d(score) + d(cost) + d(weight)


def top_p(p):
    return op("top_p") + (b(0, p) if isinstance(p, int) and p < 10 else b(160) + sz(p))


def estimator(kappa=None, weighting=None, temperature=None, guard=None, margin=None, norm=None,
              struct=None):
    sel = 0
    tail = b""
    if kappa is not None:
        sel |= 1
        tail += d(kappa)
    if weighting is not None:
        sel |= 2
        tail += b(0, weighting) if weighting < 4 else b(200) + sz(weighting)
    if temperature is not None:
        sel |= 4
        tail += f(temperature)
    if guard is not None:
        sel |= 8
        tail += b(0, guard) if guard < 3 else b(200) + sz(guard)
    if margin is not None:
        sel |= 16
        tail += d(margin)
    if norm is not None:
        sel |= 32
        tail += b(0, norm) if norm < 4 else b(200) + sz(norm)
    if struct is not None:
        sel |= 64
        tail += b(struct)  # 1: first published size, 0: 4 bytes
    return op("estimator") + b(sel) + tail


META_VALUES = ["", "1", "-0", "nan", "inf", "1e308", "4.9e-324", "softmax", "hard", "global", "zzz",
               "0x10"]


def meta(key, value):
    """key: ('reserved', i) | ('len', 0|255|256) | ('plain', i) | ('bytes', raw);
    value: ('table', i) | ('big', 0|1) | ('num', dbl) | ('bytes', raw)."""
    kind, x = key
    if kind == "reserved":
        kb = b(x)
    elif kind == "len":
        kb = b({0: 66, 255: 64, 256: 65}[x])  # how % 3: 0 empty, 1 255 bytes, 2 256 bytes
    elif kind == "plain":
        kb = b(72 + x)
    else:
        kb = b(160) + name_bytes(x)
    vk, y = value
    if vk == "table":
        vb = b(y)
    elif vk == "big":
        vb = b(96 + y)
    elif vk == "num":
        vb = b(100) + d(y)
    else:
        vb = b(180) + name_bytes(y)
    return op("meta") + kb + vb


def merge(kind, base=0, updates=()):
    """kind: 'copy', 'mutated' (updates: encoded update/update_ex bodies), 'base', 'self'."""
    if kind == "self":
        return op("merge") + b(3)
    if kind == "base":
        return op("merge") + b(2, base)
    if kind == "copy":
        return op("merge") + b(0)
    body = b"".join(b(1 if u[0] == OPS.index("update_ex") else 0) + u[1:] for u in updates)
    return op("merge") + b(1, len(updates) - 1) + body


def convert(t):
    return op("convert") + b({0: 0, 1: 1, 2: 2, 3: 3, "max": 4}[t])


def route(dim, alpha=0.5, emb=None, dim_arg=None):
    tail = b(0) if dim_arg is None else (b(224) if dim_arg == "+1" else b(226) if dim_arg == "-1"
                                         else b(240) + sz(dim_arg))
    return op("route") + (emb if emb is not None else q(dim)) + f(alpha) + tail


def route_ex(dim, alpha=0.5, top_p=None, weighting=None, temperature=None, kappa=None, flags=0,
             raw_flags=None, max_cost=None, min_score=None, margin=None, mask=None, mask_len=None,
             embedder=None, seed=None, norm=None, struct=None, rh=0x33, emb=None):
    sel = 0
    tail = b""
    if top_p is not None:
        sel |= 1
    if weighting is not None:
        sel |= 2
    if temperature is not None:
        sel |= 4
    if kappa is not None:
        sel |= 8
    if mask is not None:
        sel |= 16
    if embedder is not None:
        sel |= 32
    if norm is not None:
        sel |= 64
    if struct is not None:
        sel |= 128
    out = b(sel) + f(alpha)
    if top_p is not None:
        out += sz(top_p)
    if weighting is not None:
        out += b(0, weighting) if weighting < 4 else b(200) + sz(weighting)
    if temperature is not None:
        out += f(temperature)
    if kappa is not None:
        out += d(kappa)
    fl = flags if raw_flags is None else raw_flags
    out += b(flags & 0x1F) if raw_flags is None else b(224) + sz(raw_flags)
    if fl & 1:
        out += d(max_cost)
    if fl & 2:
        out += d(min_score)
    if fl & 4:
        out += d(margin if margin is not None else -1)
    if mask is not None:
        out += b(mask) + (b(0) if mask_len is None else b(200) + sz(mask_len))
    if embedder is not None:
        out += b(embedder)
    if fl & 16:
        s = seed if seed is not None else 0
        raw = s.to_bytes(8, "little").rstrip(b"\0") or b""
        out += b(len(raw)) + raw
    if norm is not None:
        out += b(0, norm) if norm < 4 else b(200) + sz(norm)
    if struct is not None:
        out += b(struct)  # 0: first published size, 1: 4 bytes, 2: full
    return op("route_ex") + (emb if emb is not None else q(dim)) + out + b(rh) + tail


def batch(dim, n, pad=0, alpha=0.5, rows=None):
    body = rows if rows is not None else b"".join(q(dim + pad, i) for i in range(n))
    return op("batch") + b(n, pad) + body + f(alpha)


def replay(dim, m, n=2, fuzzed=None, rows=None):
    out = b(n - 1)
    for i in range(n):
        out += rows[i] if rows is not None else b(0, i)
    if fuzzed is None:
        out += b(0)
    else:
        out += b(192)
        for t in range(n * m):
            s, c = fuzzed[t % len(fuzzed)]
            out += d(s) + d(c)
    return out


def eval_(dim, m, n=2, f64=False, by_name=False, alphas=None, target=None, top_p=None,
          fuzzed=None, rows=None):
    sel = (1 if f64 else 0) | (2 if by_name else 0) | (4 if alphas else 0) | \
          (8 if target is not None else 0) | (16 if top_p is not None else 0)
    out = op("eval") + replay(dim, m, n, fuzzed, rows) + b(sel)
    if alphas:
        out += b(len(alphas) - 1)
        for a in alphas:
            out += b(0, int(round(a * 10))) if isinstance(a, float) and a * 10 == int(a * 10) \
                else b(200) + d(a)
    if target is not None:
        out += d(target)
    if top_p is not None:
        out += b(top_p)
    return out


def budget(kind, dim=4, m=3, bound=None, grid=None, alpha=0.5, rep=None, scores=True, costs=True):
    """kind: 'mean', 'budget' or 'accuracy'; rep: replay() bytes or None (training statistics)."""
    k = {"mean": 0, "budget": 1, "accuracy": 2}[kind]
    sel = (k << 3) | (1 if rep is not None else 0) | (2 if scores else 0) | (4 if costs else 0)
    out = op("budget") + b(sel) + (rep if rep is not None else b"")
    if k == 0:
        return out + f(alpha)
    out += d(bound)
    out += b(0, grid) if isinstance(grid, int) and grid < 12 else b(200) + sz(grid)
    return out


def bulk(n):
    return op("meta_bulk") + (b(0, n - 1) if n <= 16 else b(128, n - 1000))


# ---- starts other than a base router -----------------------------------------------------------
def start_parts(dim, k, m, names, cents, stats, top_p_=1, exact=True, alpha=0.5, probe=None,
                fallback=None):
    out = b(0, dim - 2, k - 1, m - 1) + b"".join(names) + vec(cents)
    out += b(0 if exact else 128)
    for s in stats:
        if exact:
            c, sc, cost = s
            out += b(c) + (b(sc) + d(cost) if c else b"")
        else:
            out += b"".join(d(x) for x in s)
    out += b(0, top_p_ - 1) if top_p_ <= 4 else b(200) + sz(top_p_)
    if fallback is not None:  # the parts are refused: a base router instead
        return out + b(fallback) + f(alpha) + vec((probe or PROBE)[:BASE_DIM[fallback]])
    return out + f(alpha) + vec((probe or PROBE)[:dim])


def start_builder(dim, m, rows, k=2, members=1, tp=1, iters=5, seed=1, ctype=0, alpha=0.5):
    out = b(1, dim - 2, m - 1, len(rows) - 1)
    for emb, outcomes in rows:
        out += vec(emb)
        for o in outcomes:  # how byte: < 128 exact (bit0 score, bits1.. cost/8), 128..191 NaN
            out += b(o) if isinstance(o, int) else b(192) + f(o[0]) + f(o[1])
    out += b(k - 1, members - 1, tp - 1, iters - 1, seed, ctype)
    return out + f(alpha) + vec(PROBE[:dim])


def seeds():
    D = 4
    S = {}
    # one program per operation, ordinary arguments, on several starting routers
    S["op_update"] = start_base(0) + update(D, 0) + update(D, 2, 0, 1) + update(D, 5)
    S["op_update_ex"] = (start_base(0) + update_ex(D, 1, half_life=8, top_p=2, weighting=2,
                                                   temperature=0.5, weight=2) +
                         update_ex(D, 0, half_life=1, repeat=3))
    S["op_add_model"] = start_base(0) + add_model() + update(D, 3) + route(D, 1)
    S["op_top_p"] = start_base(0) + top_p(3) + route(D, 0.25) + top_p(0) + top_p(9)
    S["op_estimator"] = (start_base(0) + estimator(kappa=4, weighting=2, temperature=0.25, guard=1,
                                                   margin=0.125, norm=2) + route(D, 0.75))
    S["op_meta"] = (start_base(0) + meta(("plain", 1), ("table", 1)) +
                    meta(("plain", 1), ("num", 0.5)) + meta(("bytes", b"emb"), ("bytes", b"x y")))
    S["op_merge_copy"] = start_base(0) + update(D, 1) + merge("copy") + route(D)
    S["op_merge_mutated"] = (start_base(0) + merge("mutated", updates=[update(D, 0),
                                                                       update_ex(D, 2, weight=3)]))
    S["op_merge_other"] = start_base(0) + merge("base", 5) + merge("base", 0) + merge("self")
    S["op_convert"] = (start_base(0) + convert(1) + route(D) + convert(0) + convert(2) + convert(1)
                       + update(D, 1) + convert(3))
    S["op_route"] = start_base(0) + route(D, 0) + route(D, 1) + route(D, 0.5, dim_arg="+1")
    S["op_route_ex"] = (start_base(0) + route_ex(D, 0.5, top_p=2, weighting=2, temperature=0.5,
                                                 kappa=2, flags=1 | 2 | 4, max_cost=1,
                                                 min_score=0, margin=0.1, mask=0xB, norm=2) +
                        route_ex(D, 0.25, flags=16, seed=12345))
    S["op_batch"] = start_base(0) + batch(D, 3) + batch(D, 4, pad=2, alpha=1) + batch(D, 0)
    S["op_eval"] = (start_base(0) + eval_(D, 3, n=3) + eval_(D, 3, f64=True, by_name=True,
                                                             alphas=[0.0, 0.5, 1.0]))
    S["op_budget"] = (start_base(0) + budget("mean") + budget("budget", bound=0.5, grid=0) +
                      budget("accuracy", bound=0.25, grid=11, rep=replay(D, 3, 2)))
    S["op_reload"] = start_base(0) + update(D, 1) + op("reload") + op("closure") + update(D, 2)
    S["op_meta_bulk"] = start_base(0) + bulk(16) + bulk(3)
    # a full router (1024 entries): only inputs of a size divisible by 37 may fill it
    full = start_base(0) + bulk(1099) + meta(("plain", 1), ("table", 1)) + convert(1)
    S["op_meta_full"] = full + op("closure") * (-len(full) % 37)
    for i in range(1, 6):  # every base router, a few ops each
        dim = BASE_DIM[i]
        m = 4 if i == 3 else 6 if i == 5 else 3
        S["base%d" % i] = (start_base(i) + update(dim, m - 1) + route_ex(dim, 0.5, flags=16, seed=i)
                           + add_model(name_pool(i)) + merge("copy") + convert(0) + batch(dim, 2) +
                           eval_(dim, m + 1))
    S["start_parts"] = start_parts(
        3, 2, 2, [name_pool(0), name_pool(1)], [1, 0, 0, 0, 1, 0],
        [(2, 1, 0.25), (1, 0, 1), (0, 0, 0), (3, 2, 0.5)], 2) + update(3, 1) + route(3, 1)
    S["start_builder"] = start_builder(
        3, 2, [([1, 0, 0], [3, 2]), ([0, 1, 0], [0, 5]), ([0, 0, 1], [1, 150]),
               ([1, 1, 0], [2, (0.5, 1)])], k=2, members=1) + update(3, 0) + route_ex(3, 1)
    S["start_builder_ensemble"] = start_builder(
        4, 2, [([1, 0, 0, t / 4], [t & 3, 2]) for t in range(8)], k=2, members=2, ctype=1) + \
        update(4, 1) + route(4)

    # extreme values, argument by argument (kept to what the library handles today; the programs
    # that found defects are the regress_* files)
    S["x_route"] = (start_base(0) + route(D, "nan") + route(D, "-0") + route(D, "inf") +
                    route(D, 1.0000001) + route(D, "1e-45") +
                    route(D, 0.5, emb=vec(["1e38", "1e38", "1e38", "1e38"])) +
                    route(D, 0.5, emb=vec(["1e-45", 0, 0, 0])) +
                    route(D, 0.5, emb=vec(["nan", 1, 1, 1])) + route(D, 0.5, emb=vec([0, 0, 0, 0]))
                    + route(D, 0.5, dim_arg=2**32 + 4) + route(D, 0.5, dim_arg=2**64 - 1) +
                    route(D, 0.5, emb=fbits(0x00000001) + fbits(0x7F7FFFFF) + f(1) + f(1)))
    S["x_update"] = (start_base(0) + update(D, 0, "nan", 0) + update(D, 0, 0, "-1") +
                     update(D, 0, "FLT_MAX", "FLT_MAX") + update(D, 0, "1e-45", "-0") +
                     update(D, -1) + update(D, 3) + update(D, 1, emb=vec(["inf", 0, 0, 0])))
    S["x_update_ex"] = (start_base(0) + update_ex(D, 0, half_life="nan") +
                        update_ex(D, 0, half_life="-1") + update_ex(D, 0, half_life="inf") +
                        update_ex(D, 0, weight="0") + update_ex(D, 0, weight="-0") +
                        update_ex(D, 0, weight="nan") + update_ex(D, 0, weight="inf") +
                        update_ex(D, 0, top_p=2**32 + 1) + update_ex(D, 0, top_p=2**32 - 1) +
                        update_ex(D, 0, weighting=2**32 - 1) + update_ex(D, 0, weighting=0,
                                                                          weight=2) +
                        update_ex(D, 0, small_struct=1) + update_ex(D, 0, temperature="nan",
                                                                    top_p=2, weighting=2) +
                        update_ex(D, 0, weight="1e-300") + update_ex(D, 0, half_life="1e9") +
                        update_ex(D, 1, weight="1e10", score="FLT_MAX") + route_ex(D, 1))
    S["x_add_model"] = (start_base(0) + add_model(dup=1) + add_model(long=0) + add_model(long=1) +
                        add_model(name_bytes(b"")) + add_model(name_bytes(b"\xff\xfe")) +
                        add_model(name_bytes(b"a\x01b")) + add_model(name_bytes(b"\xc3\xa9t\xc3\xa9")) +
                        add_model(score="nan") + add_model(cost="-1") + add_model(weight="0") +
                        add_model(weight="-0") + add_model(weight="inf") +
                        add_model(name_pool(2), score="-1e300", cost=0, weight="1e-300") +
                        add_model(name_pool(3), score=1, cost="1e-310", weight="4.9e-324"))
    S["x_top_p"] = (start_base(5) + top_p(2**32 - 1) + top_p(2**32) + top_p(65) + top_p(8) +
                    top_p(64))
    S["x_estimator"] = (start_base(0) + estimator(kappa="nan") + estimator(kappa="-0") +
                        estimator(kappa="1e308") + estimator(kappa="-4.9e-324") +
                        estimator(weighting=2**32 - 1) + estimator(temperature="1e-45") +
                        estimator(temperature="inf") + estimator(temperature="-0") +
                        estimator(guard=2**32 - 1) + estimator(margin="-1e308", guard=1) +
                        estimator(norm=0) + estimator(norm=2**32 - 1) + estimator(struct=0) +
                        estimator(struct=1, norm=2, weighting=2) + route_ex(D, 0.5, flags=16))
    S["x_meta"] = (start_base(0) + meta(("len", 0), ("table", 1)) + meta(("len", 255), ("table", 2))
                   + meta(("len", 256), ("table", 2)) + meta(("plain", 2), ("big", 0)) +
                   meta(("plain", 3), ("big", 1)) + meta(("plain", 4), ("table", 0)) +
                   meta(("bytes", b"\xe2\x82\xac"), ("num", "-0")) +
                   meta(("plain", 5), ("num", "4.9e-324")))
    S["x_merge"] = (start_base(0) + merge("mutated", updates=[
        update_ex(D, 0, weight="1e10", score=1), update_ex(D, 1, half_life=2, top_p=2)]) +
                    merge("copy") + merge("copy") + merge("base", 2) + merge("base", 3))
    S["x_convert"] = (start_base(2) + convert(1) + convert("max") + convert(2) + convert(0) +
                      convert(1) + convert(2))
    S["x_route_ex"] = (start_base(0) +
                       route_ex(D, "nan") + route_ex(D, 0.5, top_p=2**32 + 1) +
                       route_ex(D, 0.5, top_p=65) + route_ex(D, 0.5, weighting=2**32 - 1) +
                       route_ex(D, 0.5, weighting=2, temperature="1e-45") +
                       route_ex(D, 0.5, weighting=2, temperature="FLT_MAX") +
                       route_ex(D, 0.5, weighting=2, temperature="-1") +
                       route_ex(D, 0.5, kappa="1e308") + route_ex(D, 0.5, kappa="inf") +
                       route_ex(D, 0.5, kappa="-0") + route_ex(D, 0.5, flags=4 | 8) +
                       route_ex(D, 0.5, flags=1, max_cost="nan") +
                       route_ex(D, 0.5, flags=1, max_cost="-inf") +
                       route_ex(D, 0.5, flags=2, min_score="inf") +
                       route_ex(D, 0.5, flags=2, min_score="-1e308") +
                       route_ex(D, 0.5, flags=4, margin="1e308") +
                       route_ex(D, 0.5, mask=0, mask_len=2**64 - 1) +
                       route_ex(D, 0.5, mask=0xFF, mask_len=0) +
                       route_ex(D, 0.5, mask=0x2, mask_len=2**32 + 1) +
                       route_ex(D, 0.5, embedder=0) + route_ex(D, 0.5, norm=2**32 - 1) +
                       route_ex(D, 0.5, struct=0, norm=3) + route_ex(D, 0.5, struct=1) +
                       route_ex(D, 1, flags=16, seed=2**64 - 1) + route_ex(D, 0, flags=16 | 1 | 4,
                                                                           max_cost=0.25, seed=0) +
                       route_ex(D, 0.5, rh=0xC0) + route_ex(D, 0.5, rh=0x80) +
                       route_ex(D, 0.5, rh=0x3C))
    S["x_batch"] = (start_base(0) + batch(D, 3, alpha="nan") +
                    batch(D, 2, rows=vec([1, 0, 0, 0, "nan", 0, 0, 0])) +
                    batch(D, 4, pad=1, alpha="1e-45", rows=vec([1, 1, 1, 1, 0] * 3 + [0] * 5)))
    S["x_eval"] = (start_base(0) + eval_(D, 3, alphas=["nan"]) + eval_(D, 3, alphas=[1.0000001]) +
                   eval_(D, 3, target="0") + eval_(D, 3, target="nan") + eval_(D, 3, top_p=3) +
                   eval_(D, 3, fuzzed=[("nan", "nan"), (1, 0)]) +
                   eval_(D, 3, fuzzed=[("inf", 0)]) + eval_(D, 3, f64=True,
                                                           fuzzed=[("1e300", "1e308")]) +
                   eval_(D, 3, n=1, rows=[b(192) + vec([0, 0, 0, 0])]) +
                   eval_(D, 3, fuzzed=[(1, "-1")]) + eval_(D, 3, f64=True, fuzzed=[("1e-310", "-0")]))
    S["x_budget"] = (start_base(0) + budget("mean", alpha="nan") + budget("mean", alpha="-0") +
                     budget("budget", bound="nan", grid=0) + budget("budget", bound="inf", grid=1) +
                     budget("budget", bound="-1", grid=2) + budget("accuracy", bound="-inf",
                                                                   grid=2**32 - 1) +
                     budget("accuracy", bound="1e308", grid=100002) +
                     budget("budget", bound="1e-310", grid=3, rep=replay(D, 3, 3, [("nan", 1)])) +
                     budget("mean", rep=replay(D, 3, 1, [(1, 2)]), scores=False))
    S["x_parts"] = start_parts(
        2, 3, 2, [name_pool(0), name_bytes(b"\xf0\x9f\x98\x80")], [1, 0, 0, 1, "1e38", -3e38],
        [("1e-310", 0, 0), (1, "1e38", "1e38"), ("2^53", -1e15, 0), (2, 1, "4.9e-324"),
         (1, "-0", "-0"), (0, 0, 0)], 3, exact=False) + update(2, 0) + route_ex(2, 1, kappa=8)
    S["x_parts_invalid"] = start_parts(
        2, 1, 1, [name_bytes(b"a\x7f")], [0, 0], [("nan", 0, 0)], 2**32 - 1, exact=False, fallback=0) + \
        route(4)
    return S


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/api"
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, "seed_%s.bin" % name), "wb") as fh:
            fh.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
