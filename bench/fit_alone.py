#!/usr/bin/python3
"""The target "at least 3x faster than MiniBatchKMeans at equal or lower inertia", measured fit
against fit: each method's fit call alone, on one thread, with the rows in the process's own
memory (np.array of the memory map, so that neither side pays for the file's pages), each in a
fresh process, the methods alternated for --rounds rounds. Not a test: figures for
docs/SCALING.md ("After 1.4.1"), one JSON object per line on stdout, then (or with --report FILE)
the per-round ratios and the verdict.

  fit_alone.py [--n 1000000] [--dim 384] [--k 60] [--rounds 3] [--workdir DIR] > out.jsonl
  fit_alone.py --report out.jsonl

Methods (all cluster the L2-normalised rows; the inertia is recomputed in float64 over them,
bench/scaling.py's inertia()):
  sklearn-minibatch  MiniBatchKMeans(n_clusters=k, batch_size=1024, n_init=3, random_state=0)
                     on a normalised float32 copy (scaling.py's setting)
  avengers-fast      Builder.add_borrowed + fit(algorithm="sampled", n_init=1, max_passes=1)
  avengers-default   Builder.add_borrowed + fit(algorithm="sampled") (the library's defaults)
"fit_cpu" is the CPU time of the fit call (process_time: one thread, so its wall time too);
the avengers methods also give the times at which the sample's k-means, the first pass and the
statistics pass ended (pass_progress). The rows are scaling.py's (WORKDIR/rows_N_D.npy, written
once). The verdict: MET when the median over the rounds of MiniBatchKMeans's fit_cpu over the
method's is at least 3 and its inertia is at most MiniBatchKMeans's, else NOT MET.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scaling  # noqa: E402  (bench/scaling.py: the rows and the inertia)

METHODS = ["sklearn-minibatch", "avengers-fast", "avengers-default"]
TARGET = 3.0


def child(method, data, k):
    X = np.array(np.load(data, mmap_mode="r"))  # the rows in this process's memory
    n, d = X.shape
    out = {"method": method}
    if method == "sklearn-minibatch":
        from sklearn.cluster import MiniBatchKMeans
        Xn = scaling.normalised(X)
        del X
        c0 = time.process_time()
        m = MiniBatchKMeans(n_clusters=k, batch_size=1024, n_init=3, random_state=0).fit(Xn)
        out["fit_cpu"] = time.process_time() - c0
        C = m.cluster_centers_.astype(np.float32)
    else:
        sys.path.insert(0, os.path.join(scaling.ROOT, "bindings", "python"))
        import avengers
        S = np.zeros((n, 1), np.float32)
        b = avengers.Builder(d, ["m"])
        b.add_borrowed(X, S, S)
        opts = {"n_init": 1, "max_passes": 1} if method == "avengers-fast" else {}
        stages = []
        c0 = time.process_time()
        r = b.fit(n_clusters=k, top_p=1, algorithm="sampled", **opts,
                  pass_progress=lambda p: stages.append(
                      (p["stage"], p["pass"], round(time.process_time() - c0, 3))))
        out["fit_cpu"] = time.process_time() - c0
        out["stages"] = stages
        out["passes"] = max(s[1] for s in stages)
        C = r.centroids()
    out["inertia"] = scaling.inertia(data, C)
    return out


def run_round(rnd, data, k, emit):
    for method in METHODS:
        env = dict(os.environ, **scaling.ONE_THREAD)
        p = subprocess.run([sys.executable, __file__, "--child", method, "--data", data,
                            "--k", str(k)], env=env, stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.exit("fit_alone.py: %s failed (exit %d)" % (method, p.returncode))
        row = json.loads(p.stdout.strip().splitlines()[-1])
        with open("/proc/loadavg") as f:
            row["load"] = float(f.read().split()[0])
        row["round"] = rnd
        emit(row)


def report(rows):
    """Per cell (n, dim, k): each round's ratios (a round pairs the methods of one run), then the
    median over every round of the cell and the verdict."""
    cells = {}
    for r in rows:
        cell = cells.setdefault((r["n"], r["dim"], r["k"]), {})
        cell.setdefault((r.get("run", ""), r["round"]), {})[r["method"]] = r
    lines = []
    for (n, dim, k), rounds in sorted(cells.items()):
        lines.append("n = %d, d = %d, k = %d:" % (n, dim, k))
        ratios = {m: [] for m in METHODS[1:]}
        for key in sorted(rounds):
            got = rounds[key]
            mb = got.get("sklearn-minibatch")
            if not mb:
                continue
            parts = ["  %s round %d: MiniBatchKMeans %.2f s" % (key[0], key[1], mb["fit_cpu"])]
            for m in METHODS[1:]:
                r = got.get(m)
                if r:
                    q = mb["fit_cpu"] / r["fit_cpu"]
                    ratios[m].append((q, r["inertia"] / mb["inertia"]))
                    parts.append("%s %.2f s (%.2fx, inertia %.4f)" %
                                 (m, r["fit_cpu"], q, r["inertia"] / mb["inertia"]))
            lines.append("; ".join(parts))
        for m, qs in ratios.items():
            if not qs:
                continue
            med = statistics.median(q for q, _ in qs)
            worst = max(i for _, i in qs)
            ok = med >= TARGET and worst <= 1.0
            lines.append("  %s: MiniBatchKMeans / this %.2fx median (%.2f-%.2fx over %d rounds), "
                         "inertia / MiniBatchKMeans at most %.4f: %s" %
                         (m, med, min(q for q, _ in qs), max(q for q, _ in qs), len(qs), worst,
                          "MET" if ok else
                          "NOT MET (target %.0fx at equal or lower inertia)" % TARGET))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--k", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", default=os.path.join(scaling.ROOT, "build", "bench", "scaling"))
    ap.add_argument("--report", metavar="JSONL")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.data, a.k)))
        return
    if a.report:
        with open(a.report) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        print("\n".join(report(rows)))
        return
    os.makedirs(a.workdir, exist_ok=True)
    data = os.path.join(a.workdir, "rows_%d_%d.npy" % (a.n, a.dim))
    scaling.make_rows(data, a.n, a.dim)
    rows = []

    run = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def emit(row):
        row.update(n=a.n, dim=a.dim, k=a.k, run=run, commit=scaling.git_commit())
        rows.append(row)
        print(json.dumps(row), flush=True)

    for rnd in range(1, a.rounds + 1):
        run_round(rnd, data, a.k, emit)
    for line in report(rows):
        print(line, file=sys.stderr)


if __name__ == "__main__":
    main()
