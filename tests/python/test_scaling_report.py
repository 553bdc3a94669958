"""bench/scaling.py's bookkeeping (no timing is measured here): which inertia is the reference,
which runs are skipped for the time budget, and what the table says about results made up here."""
import importlib.util
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_spec = importlib.util.spec_from_file_location("scaling", os.path.join(ROOT, "bench", "scaling.py"))
scaling = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scaling)


def ran(seconds, cpu, inertia, rss=100.0):
    return {"seconds": seconds, "process_seconds": seconds, "cpu_seconds": cpu,
            "inertia": inertia, "peak_rss_mb": rss}


def test_reference_prefers_full_batch_then_lowest():
    cell = {"avengers-sampled": ran(1, 1, 99.0), "sklearn-kmeans": ran(5, 5, 100.0),
            "avengers-full": ran(4, 4, 98.0)}
    assert scaling.reference(cell) == ("sklearn-kmeans", 100.0, "full-batch")
    cell["sklearn-kmeans"] = {"skipped": "stopped at the budget of 600 s wall"}
    assert scaling.reference(cell) == ("avengers-full", 98.0, "full-batch")
    del cell["avengers-full"]
    cell["faiss"] = ran(1, 1, 97.5)
    assert scaling.reference(cell) == ("faiss", 97.5, "lowest in the cell")
    assert scaling.reference({"faiss": {"skipped": "x"}}) == (None, None, None)
    # a tie (the Dask trainer computes SAMPLED's centroids): the first method of the table
    tie = {"avengers-dask": ran(9, 9, 97.0), "avengers-sampled": ran(1, 1, 97.0)}
    assert scaling.reference(tie) == ("avengers-sampled", 97.0, "lowest in the cell")


def test_skip_reason_predicts_linearly_and_propagates():
    done = {(10000, 384, 60, "sklearn-kmeans"): ran(30.0, 50.0, 1.0)}
    # 30 s at 10k: 300 s at 100k fits a 600 s budget, 3,000 s at 1M does not (full batch)
    assert scaling.skip_reason("sklearn-kmeans", 100000, 384, 60, 600, done) is None
    why = scaling.skip_reason("sklearn-kmeans", 1000000, 384, 60, 600, done)
    assert why.startswith("predicted 3000 s wall (30 s at n=10k, times 100)")
    # the largest smaller n predicts
    done[(100000, 384, 60, "sklearn-kmeans")] = ran(50.0, 60.0, 1.0)
    assert scaling.skip_reason("sklearn-kmeans", 1000000, 384, 60, 600, done) is None
    # stopped at the budget on fewer rows, or on smaller d and k: not tried on a larger cell
    done[(100000, 384, 60, "faiss")] = {"skipped": "stopped", "over_budget": True}
    assert scaling.skip_reason("faiss", 1000000, 1024, 300, 600, done) == \
        "over the budget already at n=100k, d=384, k=60"
    assert scaling.skip_reason("faiss", 10000, 1024, 300, 600, done) is None
    # a failure is not a budget matter
    done[(10000, 384, 60, "faiss")] = {"skipped": "failed: MemoryError"}
    assert scaling.skip_reason("faiss", 10000, 384, 300, 600, done) is None


def test_table_ratios_and_notes():
    line = dict(bench="scaling", n=100000, d=384, k=60)
    rows = [dict(line, method="sklearn-kmeans", **ran(9, 9, 50.0)),   # replaced by the next line
            dict(line, method="sklearn-kmeans", **ran(20, 40, 200.0)),
            dict(line, method="avengers-sampled", passes=7, **ran(2, 4, 199.0, rss=293.0)),
            dict(line, method="sklearn-minibatch", **ran(10, 16, 202.0)),
            dict(line, method="faiss", skipped="predicted 700 s wall", over_budget=True),
            dict(line, n=1000000, method="avengers-sampled", **ran(20, 36, 1990.0, rss=1500.0)),
            dict(line, n=1000000, method="sklearn-minibatch", **ran(50, 100, 1980.0))]
    text = "\n".join(scaling.table(rows))
    # 100k x 384 float32 = 146.48 MiB; 293 / 146.48 = 2.00; inertia 199 / 200; CPU 4 / 16
    assert "| 100k | 384 | 60 | libavengers SAMPLED (borrowed rows) | 2.0 | 4.0 | 40.00 | 0.25 " \
        "| 293 | 2.00 | 0.9950 | 7 |" in text
    assert "| 100k | 384 | 60 | scikit-learn KMeans (n_init 1) **(ref)** | 20.0 | 40.0 |" in text
    assert "| 100k | 384 | 60 | faiss Kmeans (niter 20) | not run: predicted 700 s wall |" in text
    # 1M x 384 float32 = 1,464.84 MiB: 1500 / 1464.84 = 1.02
    # 1M has no full-batch run: the reference is the lowest inertia, and the notes say so
    assert "n=1M d=384 k=60: no full-batch k-means ran; inertia relative to the lowest of the " \
        "cell (scikit-learn MiniBatchKMeans)" in text
    assert "| 1M | 384 | 60 | libavengers SAMPLED (borrowed rows) | 20.0 | 36.0 | 36.00 | 0.36 " \
        "| 1500 | 1.02 | 1.0051 |" in text
    # per row: 36 us at 1M, 40 us at 100k
    assert "d=384 k=60: CPU per row 1M / 100k = 0.90 (flat or falling, <= 1.10): MET" in text
    assert "1M x 384, k=60: 20.0 s wall (< 60 s): MET; peak RSS 1.02x the rows (< 2x): MET" in text
    assert "n=100k d=384 k=60: MiniBatchKMeans / SAMPLED = 4.00x CPU, 5.00x wall; inertia " \
        "SAMPLED / MiniBatch = 0.9851; >= 3x at equal or lower inertia: CPU MET, wall MET" in text
    assert "n=1M d=384 k=60: MiniBatchKMeans / SAMPLED = 2.78x CPU, 2.50x wall; inertia " \
        "SAMPLED / MiniBatch = 1.0051; >= 3x at equal or lower inertia: CPU NOT MET, wall NOT " \
        "MET" in text


def test_quality_table():
    q = dict(bench="scaling_quality", k=300)
    rows = [dict(q, method="avengers-full", auc=0.55, perf_gain_points=2.0),
            dict(q, method="avengers-sampled", sample_size=1500, auc=0.56, perf_gain_points=1.75),
            dict(q, method="avengers-sampled", sample_size=3000, auc=0.54, perf_gain_points=1.9)]
    text = "\n".join(scaling.quality_table(rows))
    assert "| avengers-sampled (sample 1500) | 0.5600 | +1.75 | +0.0100 | -0.25 |" in text
    assert "| avengers-sampled (sample 3000) | 0.5400 | +1.90 | -0.0100 | -0.10 |" in text
    assert "(sample 1500) PerfGain not below FULL's by more than 0.2 points: -0.25: NOT MET" in text
    assert "(sample 3000) PerfGain not below FULL's by more than 0.2 points: -0.10: MET" in text


def test_skip_reason_does_not_extrapolate_sampled_methods():
    # mini-batch and sampled k-means are not linear in n: only the budget itself stops them
    done = {(10000, 384, 60, "sklearn-minibatch"): ran(100.0, 100.0, 1.0)}
    assert scaling.skip_reason("sklearn-minibatch", 1000000, 384, 60, 600, done) is None


def test_targets_compare_the_fits_alone():
    line = dict(bench="scaling", n=100000, d=384, k=60)
    rows = [dict(line, method="avengers-sampled", fit_cpu=2.0, searched=0.125,
                 **ran(2, 4, 199.0)),
            dict(line, method="sklearn-minibatch", fit_cpu=5.0, **ran(10, 16, 202.0))]
    text = "\n".join(scaling.table(rows))
    # whole processes: 16 / 4 = 4x (met); the fits alone: 5 / 2 = 2.5x (not met)
    assert "MiniBatchKMeans / SAMPLED = 4.00x CPU" in text
    assert "    the fits alone: MiniBatchKMeans / SAMPLED = 2.50x CPU: NOT MET; SAMPLED's later " \
        "passes searched 12.5% of the rows" in text
    # runs from before the fits were timed alone: no such line
    for r in rows:
        del r["fit_cpu"]
    assert "the fits alone" not in "\n".join(scaling.table(rows))


def split_line(k, method, seed, auc, pg, sample=None, n=4192, **kw):
    return dict(bench="scaling_quality_split", k=k, method=method, split_seed=seed, fit_seed=seed,
                train_rows=n, test_rows=1797, auc=auc, perf_gain_points=pg, sample_size=sample,
                sample_default=method == "avengers-sampled" and not sample, **kw)


def test_t975_is_students_quantile():
    # the two-sided 95% points of Student's t tables
    assert abs(scaling.t975(2) - 4.302653) < 1e-6
    assert abs(scaling.t975(3) - 3.182446) < 1e-6
    assert abs(scaling.t975(4) - 2.776445) < 1e-6


def test_paired_differences_over_common_splits():
    full = {1: 2.0, 2: 1.0, 3: 3.0, 5: 7.0}
    sampled = {1: 1.5, 2: 1.0, 3: 2.0, 4: 9.0}  # split 4 has no FULL, split 5 no SAMPLED
    n, mean, se, lo, hi = scaling.paired(sampled, full)
    # differences -0.5, 0, -1.0: mean -0.5, sample standard deviation 0.5, error 0.5 / sqrt(3)
    assert n == 3 and abs(mean + 0.5) < 1e-12
    assert abs(se - 0.5 / 3 ** 0.5) < 1e-12
    half = 4.302653 * 0.5 / 3 ** 0.5
    assert abs(lo - (-0.5 - half)) < 1e-5 and abs(hi - (-0.5 + half)) < 1e-5
    assert scaling.paired({1: 3.0}, full) == (1, 1.0, None, None, None)
    assert scaling.paired({9: 3.0}, full) == (0, None, None, None, None)


def test_splits_for_a_standard_error():
    # n = (sd / se)^2, rounded up: sd 0.7 needs 100 splits for 0.07, sd 1.0 needs 205 (204.08)
    assert scaling.splits_for(0.7) == 100
    assert scaling.splits_for(1.0) == 205
    assert scaling.splits_for(0.35, 0.07) == 25


def test_verdict_from_the_interval():
    assert scaling.verdict(-0.15, 0.15) == "MET"
    assert scaling.verdict(-0.2, 0.5) == "MET"
    assert scaling.verdict(-1.15, -0.85) == "NOT MET"
    assert scaling.verdict(-0.5, 0.1) == "UNRESOLVED"
    assert scaling.verdict(None, None) == "UNRESOLVED (one split)"


def test_paired_quality_table():
    rows = []
    for s, (f, a, b, r) in enumerate([(2.0, 1.9, 0.9, 2.5), (2.0, 2.1, 1.1, 1.5),
                                      (2.0, 1.95, 0.95, 2.0), (2.0, 2.05, 1.05, 2.0)], 1):
        rows += [split_line(60, "avengers-full", s, 0.54, f),
                 split_line(60, "avengers-sampled", s, 0.53, a, sample=1500),
                 split_line(60, "avengers-sampled", s, 0.55, b - 1.0, sample=3000),
                 split_line(60, "avengers-sampled", s, 0.55, b, sample=3000),  # wins
                 split_line(60, "avengers-full-reseed", s, 0.54, r)]
    rows.append(split_line(60, "sklearn-kmeans", 1, 0.5, 1.0))  # one split: no interval
    # drawn rows: their own setting, SAMPLED with the library's default sample
    rows += [split_line(300, "avengers-full", 1, 0.55, 2.0, n=50000, rows_noise=0.01),
             split_line(300, "avengers-sampled", 1, 0.55, 1.0, n=50000, rows_noise=0.01)]
    text = "\n".join(scaling.paired_quality_table(rows))
    # 1,500: differences -0.1, +0.1, -0.05, +0.05: mean 0, sd sqrt(0.025 / 3), t(3) 3.182446
    # 3,000: differences -1.1, -0.9, -1.05, -0.95: mean -1.0, the same spread
    se = (0.025 / 3) ** 0.5 / 2
    half = 3.182446 * se
    assert "k = 60, 4,192 training rows:" in text
    assert "| avengers-sampled (sample 1,500) | 4 | 0.5300 | +2.00 | -0.0100 | +0.00 | %.2f | " \
        "%+.2f to %+.2f |" % (se, -half, half) in text
    assert "| avengers-sampled (sample 3,000) | 4 | 0.5500 | +1.00 | +0.0100 | -1.00 | %.2f | " \
        "%+.2f to %+.2f |" % (se, -1 - half, -1 + half) in text
    assert "| avengers-full | 4 | 0.5400 | +2.00 | | | | |" in text
    assert "| sklearn-kmeans | 1 | 0.5000 | +1.00 | -0.0400 | -1.00 |  |  |" in text
    # sd 0.0913 per split: (0.0913 / 0.07)^2 = 1.7, so 2 splits for a standard error of 0.07
    assert "(sample 1,500) PerfGain not below FULL's by more than 0.2 points (95% interval of " \
        "the paired difference over 4 splits): MET (standard deviation per split 0.09: 2 " \
        "splits for a standard error of 0.07)" in text
    assert "(sample 3,000) PerfGain not below FULL's by more than 0.2 points (95% interval of " \
        "the paired difference over 4 splits): NOT MET" in text
    # reseeded: +0.5, -0.5, 0, 0: mean 0, standard deviation sqrt(0.5 / 3)
    assert "Yardstick: FULL with seed + 100 - FULL, over 4 splits: +0.00 (standard deviation " \
        "per split %.2f)" % (0.5 / 3) ** 0.5 in text
    assert "k = 300, 50,000 training rows (noisy copies of the split's training rows, noise " \
        "0.01):" in text
    assert "| avengers-sampled (sample default) | 1 | 0.5500 | +1.00 | +0.0000 | -1.00 |  |  |" \
        in text
    assert "over 1 splits): UNRESOLVED (one split)" in text
    # report_lines prints it
    assert "k = 60, 4,192 training rows:" in "\n".join(scaling.report_lines(rows))


def test_dask_speedup_pairs_the_runs_of_a_round():
    line = dict(bench="scaling", n=1000000, d=384, k=60, run="r1")

    def timed(method, rnd, seconds, sample, fit_cpu, load=1.0):
        return dict(line, method=method, round=rnd, sample_seconds=sample, fit_cpu=fit_cpu,
                    load=[load, 1.0, 1.0], **ran(seconds, fit_cpu + 1, 97.0))

    rows = [timed("avengers-dask", 1, 10.0, 4.0, 16.0, load=0.5),
            timed("avengers-sampled-1t", 1, 12.0, 3.0, 12.0),
            timed("avengers-sampled", 1, 8.0, 2.0, 14.0),
            timed("avengers-dask", 2, 5.0, 2.0, 15.0, load=2.5),     # a quieter round: paired
            timed("avengers-sampled-1t", 2, 7.0, 1.0, 10.0),         # with its own peers
            timed("avengers-sampled", 2, 4.0, 1.0, 9.0),
            timed("avengers-dask", 3, 20.0, 5.0, 20.0),
            timed("avengers-sampled-1t", 3, 18.0, 3.0, 10.0),
            dict(line, method="avengers-sampled-1t-unbounded", round=3,
                 **ran(30.0, 30.0, 97.0)),                             # no stages timed
            dict(line, method="faiss", round=1, **ran(1.0, 1.0, 99.0))]
    text = "\n".join(scaling.speedup_lines(rows))
    # one thread: 12 / 10, 7 / 5, 18 / 20 = 1.2, 1.4, 0.9; after the sample: 9 / 6, 6 / 3,
    # 15 / 15; CPU 16 / 12, 15 / 10, 20 / 10; default threads: 8 / 10, 4 / 5, CPU 16 / 14, 15 / 9
    assert "Speed-up of avengers.dask.train (2 workers) over one process, n=1M d=384 k=60 " \
        "(wall of the training calls, same round; median [range] of 3 round(s); load average " \
        "0.5 to 2.5):" in text
    assert "  over SAMPLED 1 thread 1.20x [0.90-1.40], after the sample's k-means 1.50x " \
        "[1.00-2.00], CPU of the fits Dask / SAMPLED 1.50x [1.33-2.00]" in text
    assert "  over SAMPLED 1 thread, bounds off 1.50x" in text
    assert "  over SAMPLED default threads 0.80x [0.80-0.80], after the sample's k-means 1.00x " \
        "[1.00-1.00], CPU of the fits Dask / SAMPLED 1.40x [1.14-1.67]" in text
    assert "speed-up over one process of one thread (2 workers of one thread each): NOT IN " \
        "EVERY ROUND" in text
    # the lines are in the table's report; without the peer, no verdict; the variants have
    # labels and the environment that makes them
    assert "over SAMPLED 1 thread 1.20x" in "\n".join(scaling.table(rows))
    rows = [r for r in rows if r["method"] != "avengers-sampled-1t"]
    assert "speed-up over one process" not in "\n".join(scaling.speedup_lines(rows))
    assert scaling.base_method("avengers-sampled-1t-unbounded") == "avengers-sampled"
    assert scaling.base_method("avengers-dask-1t") == "avengers-dask"
    assert scaling.base_method("avengers-source") == "avengers-source"
    assert scaling.METHOD_ENV["avengers-sampled-1t-unbounded"] == {
        "AV_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
        "AV_KMEANS_BOUNDS": "off"}
    # lines from before --repeat (no run, no round): one round of the last lines
    old = [dict(bench="scaling", n=10000, d=384, k=60, method=m, **ran(s, s, 1.0))
           for m, s in (("avengers-dask", 9.0), ("avengers-sampled-1t", 1.0),
                        ("avengers-sampled-1t", 3.0))]
    text = "\n".join(scaling.speedup_lines(old))
    assert "over SAMPLED 1 thread 0.33x" in text and "of 1 round(s)" in text
    assert "NOT REACHED" in text


_fa_spec = importlib.util.spec_from_file_location("fit_alone",
                                                  os.path.join(ROOT, "bench", "fit_alone.py"))
fit_alone = importlib.util.module_from_spec(_fa_spec)
_fa_spec.loader.exec_module(fit_alone)


def test_fit_alone_pairs_rounds_and_gives_the_verdict():
    def row(method, rnd, cpu, inertia, run="r1", n=1000000):
        return dict(method=method, round=rnd, fit_cpu=cpu, inertia=inertia, run=run, n=n,
                    dim=384, k=60)

    rows = [row("sklearn-minibatch", 1, 4.0, 100.0), row("avengers-fast", 1, 1.0, 99.0),
            row("avengers-default", 1, 8.0, 98.0),
            row("sklearn-minibatch", 2, 3.0, 100.0), row("avengers-fast", 2, 1.5, 99.0),
            row("avengers-default", 2, 6.0, 98.0),
            # a second run of the same cell: its round 1 is paired with its own MiniBatchKMeans
            row("sklearn-minibatch", 1, 6.0, 100.0, run="r2"), row("avengers-fast", 1, 1.5, 99.0,
                                                                    run="r2"),
            # another cell: a lower inertia and 3x or more in every round
            row("sklearn-minibatch", 1, 3.3, 50.0, n=100000),
            row("avengers-fast", 1, 1.0, 50.0, n=100000)]
    text = "\n".join(fit_alone.report(rows))
    # 1M: 4 / 1, 3 / 1.5, 6 / 1.5 = 4, 2, 4 -> median 4; the defaults 0.5, 0.5
    assert "n = 1000000, d = 384, k = 60:" in text
    assert "avengers-fast: MiniBatchKMeans / this 4.00x median (2.00-4.00x over 3 rounds), " \
        "inertia / MiniBatchKMeans at most 0.9900: MET" in text
    assert "avengers-default: MiniBatchKMeans / this 0.50x median (0.50-0.50x over 2 rounds)" \
        in text and "NOT MET" in text
    # 100k: 3.3x at an equal inertia is met; above it is not
    assert "avengers-fast: MiniBatchKMeans / this 3.30x median (3.30-3.30x over 1 rounds), " \
        "inertia / MiniBatchKMeans at most 1.0000: MET" in text
    rows[-1]["inertia"] = 50.5
    assert "at most 1.0100: NOT MET" in "\n".join(fit_alone.report(rows))
