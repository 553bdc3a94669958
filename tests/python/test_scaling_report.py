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
