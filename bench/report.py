#!/usr/bin/python3
"""Turn the JSON lines of bench/bench.c and bench/peers.py (one run) into the table of
docs/PERFORMANCE.md, with every libavengers figure's ratio to each peer and the issue's targets.

usage: report.py RESULTS.jsonl [--json]   (--json also prints the raw lines)
"""
import json, sys


def fmt_ns(v):
    if v >= 1e6:
        return "%.2f ms" % (v / 1e6)
    if v >= 1e3:
        return "%.1f us" % (v / 1e3)
    return "%.0f ns" % v


def cell(r):
    return "%s [%s-%s]" % (fmt_ns(r["median"]), fmt_ns(r["q1"]), fmt_ns(r["q3"])) if r else "-"


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
    idx = {}
    for r in rows:
        key = (r.get("src"), r["bench"], r.get("backend"), r.get("type"), r.get("d"), r.get("k"))
        idx[key] = r
    env = [r for r in rows if r["bench"] == "env"]
    active = next((r["backend"] for r in env if r["src"] == "libavengers"), "?")
    peer_env = next((r for r in env if r["src"] == "peer"), {})

    def lib(bench, backend, typ, d, k):
        return idx.get(("libavengers", bench, backend, typ, d, k))

    def peer(bench, backend, d, k):
        return idx.get(("peer", bench, backend, "f32", d, k))

    def med(r):
        return r["median"] if r else float("nan")

    out = []
    p = out.append
    p("libavengers bench: medians over repeats [quartiles]; active backend %s; numpy %s, BLAS %s"
      % (active, peer_env.get("numpy", "?"), peer_env.get("blas", "?")))
    p("")
    p("Single av_route (m=8, p=4, cache-warm), ns per query")
    hdr = "%-11s %-10s %-26s %-26s %-26s %-26s %-26s %-26s" % (
        "d x k", "backend", "f32", "f16", "int8", "plain AVX2 sweep", "numpy", "faiss")
    p(hdr)
    for d in (384, 1024, 4096):
        for k in (64, 256):
            for be in ("scalar", "avx2", "avx512", "avx512vnni", "neon"):
                f = lib("route", be, "f32", d, k)
                if not f:
                    continue
                p("%-11s %-10s %-26s %-26s %-26s %-26s %-26s %-26s" % (
                    "%dx%d" % (d, k), be, cell(f), cell(lib("route", be, "f16", d, k)),
                    cell(lib("route", be, "int8", d, k)), cell(lib("sweep", "avx2", "f32", d, k)),
                    cell(peer("route", "numpy", d, k)), cell(peer("route", "faiss", d, k))))
    p("")
    p("Ratios (libavengers time / peer time; < 1 is faster)")
    p("%-11s %-10s %-9s %-9s %-9s %-9s %-9s %-9s %-9s" % (
        "d x k", "backend", "f32/swp", "f32/np", "f32/faiss", "f16/swp", "int8/swp", "int8/np",
        "np/f32 x"))
    for d in (384, 1024, 4096):
        for k in (64, 256):
            sw = med(lib("sweep", "avx2", "f32", d, k))
            npv = med(peer("route", "numpy", d, k))
            fa = med(peer("route", "faiss", d, k))
            for be in ("avx2", "avx512", "avx512vnni", "neon", "scalar"):
                f = lib("route", be, "f32", d, k)
                if not f:
                    continue
                f, h, i8 = med(f), med(lib("route", be, "f16", d, k)), med(lib("route", be, "int8", d, k))
                p("%-11s %-10s %-9.3f %-9.3f %-9.3f %-9.3f %-9.3f %-9.3f %-9.1f" % (
                    "%dx%d" % (d, k), be, f / sw, f / npv, f / fa, h / sw, i8 / sw, i8 / npv, npv / f))
    p("")
    p("Batch, d=4096 k=64, 4096 queries, ns per query")
    npb = peer("batch", "numpy", 4096, 64)
    sg = lib("batch_sgemm", "openblas", "f32", 4096, 64)
    for be in ("scalar", "avx2", "avx512", "avx512vnni", "neon"):
        b = lib("batch", be, "f32", 4096, 64)
        if not b:
            continue
        loop = lib("route_loop", be, "f32", 4096, 64)
        ident = next((r for r in rows if r["bench"] == "batch_identity" and r["backend"] == be), {})
        p("  av_route_batch %-10s %-28s loop of av_route %-28s identical %s/%s  numpy/batch %.2fx  "
          "sgemm-path/batch %.2fx" % (be, cell(b), cell(loop), ident.get("identical"),
                                      ident.get("n"), med(npb) / med(b), med(sg) / med(b)))
    p("  numpy batch (Q @ C.T, argpartition)  %s" % cell(npb))
    p("  OpenBLAS sgemm blocks + same top-p   %s" % cell(sg))
    p("")
    p("Load (float32 routers, file in page cache), ms per MB [quartiles], and ratios to one plain")
    p("CRC32 pass (zlib) over the same bytes (the issue's target: the speed of one checksum pass),")
    p("and to one pass of the library's own CRC32 (carry-less multiply, the active SIMD backend)")
    load_kinds = [("av_router_load", "av_router_load (read in place, check)"),
                  ("av_router_load_buffer", "av_router_load_buffer (bytes in memory)"),
                  ("av_router_load_mapped", "av_router_load_mapped (values in place)"),
                  ("crc32_pass", "one plain CRC32 pass (zlib)"),
                  ("crc32_lib_pass", "one pass of the library's CRC32"),
                  ("checks_1_1", "checks as in 1.1: byte FNV-1a + CRC32 twice"),
                  ("checks_1_3", "checks as in 1.3.0: zlib CRC32 pass + XXH64"),
                  ("checks_1_4", "checks as in 1.4.0: blocked pass with XXH64"),
                  ("checks_now", "checks now: blocked CRC32 + finiteness"),
                  ("read_crc_pass", "the file read into malloc'd memory + lib CRC32"),
                  ("read_crc_fresh", "the same into fresh pages (first load)")]
    for r in rows:
        if r["bench"] != "load_rate":
            continue
        p("  d=%d k=%d, %.2f MB:" % (r["d"], r["k"], r["mb"]))
        if "crc32_pass" not in r:  # a run from before the peers were measured
            lr = lib("load", "-", "f32", r["d"], r["k"])
            p("    av_router_load %.2f ms [%.2f-%.2f] = %.3f ms/MB" % (
                lr["median"], lr["q1"], lr["q3"], r["ms_per_mb"]))
            continue
        crc = r["crc32_pass"][0]
        kinds = load_kinds + [("old_lib_load", "av_router_load of libavengers %s (dlmopen)"
                               % r.get("old_lib_version", "?"))]
        for key, label in kinds:
            if key not in r:
                continue
            m, q1, q3 = r[key]
            fast = ("  %6.2fx lib CRC" % (m / r["crc32_lib_pass"][0])
                    if "crc32_lib_pass" in r else "")
            p("    %-46s %7.3f ms/MB [%.3f-%.3f]  %6.2fx CRC32%s" % (label, m, q1, q3, m / crc,
                                                                   fast))
        if "read_crc_pass" in r:
            p("    av_router_load / (the file read into malloc'd memory, one CRC32 pass) = %.2fx"
              % (r["av_router_load"][0] / r["read_crc_pass"][0]))
        if "old_lib_load" in r:
            p("    av_router_load: libavengers %s / this one = %.2fx (the same file, interleaved)"
              % (r["old_lib_version"], r["old_lib_load"][0] / r["av_router_load"][0]))
        old, now, load = r["checks_1_1"][0], r["checks_now"][0], r["av_router_load"][0]
        p("    checks 1.1 / now = %.1fx; av_router_load as 1.1 made it (this load - checks now + "
          "checks 1.1) = %.3f ms/MB, %.2fx this one" % (old / now, load - now + old,
                                                       (load - now + old) / load))
    p("")
    p("Training on llmrouter9 (5,989 x 384, k=60, 10 restarts)")
    tr = lib("train", "-", "f32", 384, 60)
    inert = next((r for r in rows if r["bench"] == "inertia"), {})
    sk = idx.get(("peer", "train", "sklearn", "f32", 384, 60))
    fk = idx.get(("peer", "train", "faiss", "f32", 384, 60))
    if tr:
        p("  libavengers  %10.0f ms [%0.f-%0.f]  inertia %.4f" % (tr["median"], tr["q1"], tr["q3"],
                                                              inert.get("inertia", float("nan"))))
    for name, r in (("scikit-learn", sk), ("faiss", fk)):
        if r and tr:
            p("  %-12s %10.0f ms [%0.f-%0.f]  inertia %.4f   time ratio ours/peer %.3f, inertia "
              "ours/peer - 1 = %+.3f%%" % (name, r["median"], r["q1"], r["q3"], r["inertia"],
                                           tr["median"] / r["median"],
                                           100 * (inert.get("inertia", 0) / r["inertia"] - 1)))
    p("")
    p("Agreement of compact centroids with float32 on llmrouter9 (all queries, k=60, p=4)")
    for r in rows:
        if r["bench"] == "agreement":
            p("  %-4s alpha=%.1f: %d/%d = %.2f%%" % (r["type"], r["alpha"], r["same"], r["n"],
                                                   r["pct"]))
    p("")
    p("Targets of the routing benchmark (d=4096 k=64 m=8 p=4; active backend %s, avx2 in "
      "brackets)" % active)
    d, k = 4096, 64
    sw = med(lib("sweep", "avx2", "f32", d, k))
    npv = med(peer("route", "numpy", d, k))

    def verdict(ok):
        return "MET" if ok else "NOT MET"
    for be in [active] + (["avx2"] if active != "avx2" else []):
        f = med(lib("route", be, "f32", d, k))
        i8 = med(lib("route", be, "int8", d, k))
        b = med(lib("batch", be, "f32", d, k))
        p("  [%s] f32 route / plain sweep = %.3f (<= 1.0): %s" % (be, f / sw, verdict(f <= sw)))
        p("  [%s] numpy / f32 route = %.2fx (>= 3x): %s" % (be, npv / f, verdict(npv >= 3 * f)))
        p("  [%s] int8 route / plain sweep = %.3f (<= 0.5): %s" % (be, i8 / sw, verdict(i8 <= 0.5 * sw)))
        p("  [%s] numpy batch / av_route_batch = %.2fx (>= 1.5x): %s" % (
            be, med(npb) / b, verdict(med(npb) >= 1.5 * b)))
    if tr and sk:
        ratio = sk["median"] / tr["median"]
        dev = abs(inert.get("inertia", 0) / sk["inertia"] - 1)
        p("  training: scikit-learn / libavengers = %.2fx (>= 2x): %s; inertia within %.3f%% (<= 1%%):"
          " %s" % (ratio, verdict(ratio >= 2), 100 * dev, verdict(dev <= 0.01)))
    ag = [r["pct"] for r in rows if r["bench"] == "agreement"]
    if ag:
        p("  compact agreement min %.2f%% (>= 99.5%%): %s" % (min(ag), verdict(min(ag) >= 99.5)))
    if not any(r["bench"] in ("env", "route", "load_rate") for r in rows):
        out = []  # a run of BENCH_ONLY=scaling: no routing table
    from scaling import report_lines  # bench/scaling.py, beside this file
    out += [""] + report_lines(rows) if any(r.get("src") == "scaling" for r in rows) else []
    print("\n".join(out))
    if "--json" in sys.argv:
        print("\nJSON lines:")
        for r in rows:
            print(json.dumps(r))


if __name__ == "__main__":
    main()
