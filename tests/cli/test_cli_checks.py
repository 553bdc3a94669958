#!/usr/bin/python3
"""End-to-end tests of `avengers route`'s per-request options, the data checks of the readers, the
messages, reproducible router files and the progress of `train --tune`, on tests/data/llm9.

Run by `make check-cli-checks` (AVENGERS = path of the command). Prints one line per test and the
summary `N passed, N failed`. Expected figures come from the input files (numpy) or from the
command's own unconstrained ranking (--explain), never from the code under test's constrained path.
"""
import gzip
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AVENGERS = os.path.abspath(os.environ.get("AVENGERS", os.path.join(ROOT, "build", "bin", "avengers")))
DATA = "tests/data/llm9/data.jsonl.gz"
EMB = "tests/data/llm9/emb.npy"
ROUTER = "tests/cli/golden/router.avr"  # k 16, top_p 4, 9 models, dim 384
SMALL = ["-k", "8", "--top-p", "2", "--n-init", "1", "--seed", "3"]
EXIT_USAGE, EXIT_DATA, EXIT_ROUTER = 1, 2, 3
TMP = tempfile.mkdtemp(prefix="avengers-cli-checks-")
TESTS, results = [], []


def test(fn):
    TESTS.append(fn)
    return fn


def tmp(name):
    return os.path.join(TMP, name)


def run(*args, check=None, stdin=None, env_extra=None):
    env = dict(os.environ)
    env.pop("SOURCE_DATE_EPOCH", None)  # only the tests that mean to set it do
    env.update(env_extra or {})
    p = subprocess.run([AVENGERS, *args], cwd=ROOT, capture_output=True, input=stdin, env=env)
    p.out, p.err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    if check is not None and p.returncode != check:
        raise AssertionError(f"exit {p.returncode} (want {check}) for {' '.join(args)}\n"
                             f"stdout: {p.out[-1500:]}\nstderr: {p.err[-1500:]}")
    return p


def no_repeats(msg):
    """No part of a message (between ': ') appears twice, and no phrase of 4+ words twice."""
    parts = [x.strip().lower() for x in msg.strip().split(": ") if x.strip()]
    assert len(parts) == len(set(parts)), f"a part repeats: {msg!r}"
    words = re.findall(r"[a-z0-9']+", re.sub(r"\S*/\S*", " ", msg.lower()))  # paths may recur
    grams = [" ".join(words[i:i + 4]) for i in range(len(words) - 3)]
    dup = {g for g in grams if grams.count(g) > 1}
    assert not dup, f"phrase repeats ({sorted(dup)[:2]}): {msg!r}"


def expect_error(args, code, *needles, stdin=None, env_extra=None):
    p = run(*args, stdin=stdin, env_extra=env_extra)
    assert p.returncode == code, f"exit {p.returncode}, want {code}; stderr: {p.err}"
    for n in needles:
        assert n in p.err, f"stderr lacks {n!r}: {p.err}"
    no_repeats(p.err.replace("avengers: ", "", 1))
    return p


def lines():
    with gzip.open(os.path.join(ROOT, DATA), "rt", encoding="utf-8") as f:
        return [json.loads(l) for l in f.read().split("\n") if l]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return path


def route_json(*args, stdin=None, check=0):
    p = run("route", "--router", ROUTER, *args, stdin=stdin, check=check)
    return [json.loads(l) for l in p.out.splitlines()], p


def emb():
    return np.load(os.path.join(ROOT, EMB))


# ---- route: per-request options ---------------------------------------------------------------
@test
def test_route_explain_is_consistent():
    base, _ = route_json("--embeddings", EMB, "--alpha", "0.7")
    ex, _ = route_json("--embeddings", EMB, "--alpha", "0.7", "--explain")
    assert len(ex) == 1200 and [r["model"] for r in ex] == [r["model"] for r in base], \
        "--explain changed a decision"
    for r in ex[:200]:
        ranked = r["ranked"]
        assert ranked[0]["model"] == r["model"] and len(ranked) == 9 and r["feasible"] == 9
        scores = [x["score"] for x in ranked]
        assert scores == sorted(scores, reverse=True), "ranking not best first"
        by_model = {e["model"]: e for e in r["expected"]}
        assert all(by_model[x["model"]]["routing_score"] == x["score"] for x in ranked)
        assert len(r["clusters"]) == 4, "the router's top_p is 4"
        sims = [c["similarity"] for c in r["clusters"]]
        assert sims == sorted(sims, reverse=True) and abs(sims[0] - r["best_similarity"]) < 1e-6
        assert all(0 <= e["score"] <= 1 and e["cost"] >= 0 for e in r["expected"])
        assert r["guarded"] is False


@test
def test_route_mask_takes_the_best_allowed_of_the_full_ranking():
    ex, _ = route_json("--embeddings", EMB, "--alpha", "0.9", "--explain")
    allowed = ["codegemma-7b", "llama3-chatqa-1.5-8b", "qwen2.5-7b-instruct"]
    got, _ = route_json("--embeddings", EMB, "--alpha", "0.9", "--mask", ",".join(allowed))
    for full, m in zip(ex, got):
        want = next(x["name"] for x in full["ranked"] if x["name"] in allowed)
        assert m["name"] == want, (m, want)
    expect_error(["route", "--router", ROUTER, "--embeddings", EMB, "--mask", "gpt-9"], EXIT_USAGE,
                 "no model 'gpt-9'")


@test
def test_route_cost_and_score_limits():
    ex, _ = route_json("--embeddings", EMB, "--alpha", "1", "--explain")
    costs = sorted({round(e["cost"], 12) for e in ex[0]["expected"]})
    limit = costs[len(costs) // 2]
    got, _ = route_json("--embeddings", EMB, "--alpha", "1", "--max-cost", repr(limit))
    for full, m in zip(ex, got):
        cost = {e["model"]: e["cost"] for e in full["expected"]}
        want = next(x["model"] for x in full["ranked"] if cost[x["model"]] <= limit)
        assert m["model"] == want
    got, p = route_json("--embeddings", EMB, "--alpha", "0", "--min-score", "0.5", check=None)
    ex0, _ = route_json("--embeddings", EMB, "--alpha", "0", "--explain")
    n_err = 0
    for full, m in zip(ex0, got):
        score = {e["model"]: e["score"] for e in full["expected"]}
        ok = [x["model"] for x in full["ranked"] if score[x["model"]] >= 0.5]
        if ok:
            assert m["model"] == ok[0]
        else:
            n_err += 1
            assert "error" in m and "no model satisfies" in m["error"]
    assert 0 < n_err < 1200 and p.returncode == EXIT_DATA, (n_err, p.returncode)
    # nothing is cheap enough: every row is an error line, exit status 2
    rows, p = route_json("--embeddings", EMB, "--max-cost", "0", check=EXIT_DATA)
    assert all("error" in r and r["error"].count("satisf") == 1 for r in rows), rows[0]
    expect_error(["route", "--router", ROUTER, "--embeddings", EMB, "--max-cost", "-1"],
                 EXIT_USAGE, "--max-cost")


@test
def test_route_top_p():
    a, _ = route_json("--embeddings", EMB, "--top-p", "4")
    b, _ = route_json("--embeddings", EMB)
    assert a == b, "--top-p 4 is the router's own"
    ex, _ = route_json("--embeddings", EMB, "--top-p", "1", "--explain")
    assert all(len(r["clusters"]) == 1 for r in ex)
    ex8, _ = route_json("--embeddings", EMB, "--top-p", "8", "--explain")
    assert all(len(r["clusters"]) == 8 for r in ex8)
    # the nearest cluster is the same whatever top_p
    assert all(x["clusters"][0] == y["clusters"][0] for x, y in zip(ex, ex8))
    expect_error(["route", "--router", ROUTER, "--embeddings", EMB, "--top-p", "17"], EXIT_USAGE,
                 "--top-p 17")


@test
def test_route_reads_standard_input():
    want = run("route", "--router", ROUTER, "--embeddings", EMB, check=0).out
    with open(os.path.join(ROOT, EMB), "rb") as f:
        npy = f.read()
    assert run("route", "--router", ROUTER, "--embeddings", "-", stdin=npy, check=0).out == want
    raw = emb().astype("<f4").tobytes()
    got = run("route", "--router", ROUTER, "--embeddings", "-", "--dim", "384", stdin=raw, check=0)
    assert got.out == want
    expect_error(["route", "--router", ROUTER, "--embeddings", "-"], EXIT_DATA,
                 "<standard input>", "--dim", stdin=raw)


# ---- data checks ----------------------------------------------------------------------------
@test
def test_scores_outside_unit_interval_refused_with_line():
    for bad in (1.5, -0.25, 91.6667):
        rows = lines()
        rows[6]["scores"]["gemma-2-9b-it"] = bad
        path = write_jsonl(tmp("range.jsonl"), rows)
        expect_error(["train", "--data", path, "--embeddings", EMB, "-o", tmp("x.avr")], EXIT_DATA,
                     f"{path}:7: score of model 'gemma-2-9b-it' is {bad:g}", "outside [0, 1]",
                     "--score-range")


@test
def test_score_range_rescales():
    rows = lines()
    for r in rows:
        r["scores"] = {m: v * 100.0 for m, v in r["scores"].items()}
    path = write_jsonl(tmp("pct.jsonl"), rows)
    a = tmp("a.json")
    run("eval", "--router", ROUTER, "--data", DATA, "--embeddings", EMB, "--json", a, "-q", check=0)
    b = tmp("b.json")
    run("eval", "--router", ROUTER, "--data", path, "--embeddings", EMB, "--score-range", "0:100",
        "--json", b, "-q", check=0)
    ja, jb = json.load(open(a)), json.load(open(b))
    for x, y in zip(ja["single_models"] + ja["router_points"], jb["single_models"] + jb["router_points"]):
        assert abs(x["mean_score"] - y["mean_score"]) < 1e-12 and x["mean_cost"] == y["mean_cost"]
    rows[3]["scores"]["codegemma-7b"] = 101
    path = write_jsonl(tmp("pct2.jsonl"), rows)
    expect_error(["eval", "--router", ROUTER, "--data", path, "--embeddings", EMB, "--score-range",
                  "0:100"], EXIT_DATA, f"{path}:4:", "outside --score-range 0:100")
    expect_error(["eval", "--router", ROUTER, "--data", DATA, "--embeddings", EMB, "--score-range",
                  "5:1"], EXIT_USAGE, "--score-range 5:1")


@test
def test_dim_on_npy_refused():
    expect_error(["route", "--router", ROUTER, "--embeddings", EMB, "--dim", "384"], EXIT_DATA,
                 "a .npy file", "drop it")
    expect_error(["eval", "--router", ROUTER, "--data", DATA, "--embeddings", EMB, "--dim", "384"],
                 EXIT_DATA, "a .npy file")


@test
def test_hints_json_array_pretty_npz_transposed_keys():
    rows = lines()[:30]
    with open(tmp("array.json"), "w") as f:
        json.dump(rows, f)
    expect_error(["eval", "--router", ROUTER, "--data", tmp("array.json"), "--embeddings", EMB],
                 EXIT_DATA, "one JSON array", "jq -c")
    with open(tmp("array2.json"), "w") as f:
        json.dump(rows, f, indent=1)
    expect_error(["eval", "--router", ROUTER, "--data", tmp("array2.json"), "--embeddings", EMB],
                 EXIT_DATA, "one JSON array")
    with open(tmp("pretty.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r, indent=2) + "\n")
    expect_error(["eval", "--router", ROUTER, "--data", tmp("pretty.jsonl"), "--embeddings", EMB],
                 EXIT_DATA, f"{tmp('pretty.jsonl')}:1:", "each line must hold one whole JSON object")
    np.savez(tmp("e.npz"), emb=emb())
    expect_error(["eval", "--router", ROUTER, "--data", DATA, "--embeddings", tmp("e.npz")],
                 EXIT_DATA, ".npz archive", "numpy.save")
    np.save(tmp("t.npy"), np.ascontiguousarray(emb().T))
    expect_error(["eval", "--router", ROUTER, "--data", DATA, "--embeddings", tmp("t.npy")],
                 EXIT_DATA, "has 384 rows", "looks transposed")
    expect_error(["route", "--router", ROUTER, "--embeddings", tmp("t.npy")], EXIT_ROUTER,
                 "looks transposed")
    renamed = [{("score" if k == "scores" else k): v for k, v in r.items()} for r in rows]
    path = write_jsonl(tmp("keys.jsonl"), renamed)
    p = expect_error(["train", "--data", path, "--embeddings", EMB, "-o", tmp("x.avr")], EXIT_DATA,
                     f"{path}:1:", "neither \"scores\"")
    for k in ("id", "score", "costs", "split"):
        assert f'"{k}"' in p.err.split("keys are:")[1], p.err
    nocost = [{k: v for k, v in r.items() if k != "costs"} for r in rows]
    path = write_jsonl(tmp("nocost.jsonl"), nocost)
    expect_error(["train", "--data", path, "--embeddings", EMB, "-o", tmp("x.avr")], EXIT_DATA,
                 "\"costs\" is missing; the line's keys are:", "\"scores\"")


@test
def test_split_names_and_the_reason():
    rows = lines()
    names = ["train", "test", "dev", "ood"]
    for i, r in enumerate(rows):
        r["split"] = names[i % 4]
    path = write_jsonl(tmp("splits.jsonl"), rows)
    for name in names:
        out = tmp(f"s-{name}.json")
        run("eval", "--router", ROUTER, "--data", path, "--embeddings", EMB, "--split", name,
            "--json", out, "-q", check=0)
        ev = json.load(open(out))
        assert ev["data"]["rows"] == sum(1 for r in rows if r["split"] == name), (name, ev["data"])
        assert ev["data"]["split"].startswith(f'{name} from the "split" field, the default'), ev["data"]
    expect_error(["eval", "--router", ROUTER, "--data", path, "--embeddings", EMB, "--split",
                  "validation"], EXIT_DATA, 'no line has "split": "validation"',
                 '"dev" (300 rows)', '"ood" (300 rows)')
    # a random split ignores the names and says so
    p = run("eval", "--router", ROUTER, "--data", path, "--embeddings", EMB, "--split-by",
            "random", check=0)
    assert "test from a random split: train ratio 0.7, seed 42, as asked by --split-by random" \
        in p.out, p.out[:600]
    p = run("train", "--data", path, "--embeddings", EMB, "--split", "dev", *SMALL, "-o",
            tmp("dev.avr"), check=0)
    assert '300 training rows (dev from the "split" field' in p.out, p.out
    # a ratio given while the field decides: a note on stderr
    p = run("train", "--data", DATA, "--embeddings", EMB, "--train-ratio", "0.5", *SMALL, "-o",
            tmp("r.avr"), check=0)
    assert "--train-ratio is not used" in p.err and 'from the "split" field' in p.out
    plain = [{k: v for k, v in r.items() if k != "split"} for r in rows]
    path = write_jsonl(tmp("nosplit.jsonl"), plain)
    p = run("train", "--data", path, "--embeddings", EMB, *SMALL, "-o", tmp("n.avr"), check=0)
    assert "840 training rows (train from a random split: train ratio 0.7, seed 3, as the lines " \
           "carry no \"split\" field)" in p.out, p.out
    expect_error(["train", "--data", path, "--embeddings", EMB, "--split", "dev", "-o",
                  tmp("n.avr")], EXIT_USAGE, "no \"split\" field")
    rows[9]["split"] = 3
    expect_error(["train", "--data", write_jsonl(tmp("badsplit.jsonl"), rows), "--embeddings", EMB,
                  "-o", tmp("n.avr")], EXIT_DATA, ":10: \"split\" must be a name")


@test
def test_raw_float32_sidecar_and_dim_hints():
    e = emb()
    e.astype("<f4").tofile(tmp("raw.f32"))
    want = run("route", "--router", ROUTER, "--embeddings", EMB, check=0).out
    expect_error(["route", "--router", ROUTER, "--embeddings", tmp("raw.f32")], EXIT_DATA,
                 "not a .npy file", "--dim D", "sidecar")
    with open(tmp("raw.json"), "w") as f:
        json.dump({"rows": 1200, "dim": 384, "method": "test"}, f)
    assert run("route", "--router", ROUTER, "--embeddings", tmp("raw.f32"), check=0).out == want
    run("eval", "--router", ROUTER, "--data", DATA, "--embeddings", tmp("raw.f32"), "-q", check=0)
    with open(tmp("raw.f32.json"), "w") as f:  # the more specific name wins
        json.dump({"rows": 1000, "dim": 384}, f)
    expect_error(["route", "--router", ROUTER, "--embeddings", tmp("raw.f32")], EXIT_DATA,
                 "sidecar", "1000 rows of 384")
    os.remove(tmp("raw.f32.json"))
    expect_error(["route", "--router", ROUTER, "--embeddings", tmp("raw.f32"), "--dim", "500"],
                 EXIT_DATA, "not a whole number of rows", "check --dim")
    expect_error(["eval", "--router", ROUTER, "--data", DATA, "--embeddings", tmp("raw.f32"),
                  "--dim", "192"], EXIT_DATA, "2400 rows", "check --dim")


@test
def test_messages_do_not_repeat():
    e = emb().copy()
    e[5] = 0.0
    np.save(tmp("zero.npy"), e)
    p = expect_error(["train", "--data", DATA, "--embeddings", tmp("zero.npy"), "--split", "all",
                      "-o", tmp("x.avr")], EXIT_DATA, "zero, NaN or infinite", "row 5")
    assert p.err.count("zero, NaN or infinite") == 1, p.err
    run("train", "--data", DATA, "--embeddings", EMB, *SMALL, "-o", tmp("m1.avr"), check=0)
    p = expect_error(["merge", ROUTER, tmp("m1.avr"), "-o", tmp("m.avr")], EXIT_ROUTER,
                     "incompatible")
    assert p.err.count("incompatible") == 1, p.err
    for args in (["info", "nosuch.avr"], ["route", "--router", "nosuch.avr", "--embeddings", EMB],
                 ["convert", "-c", "f16", "nosuch.avr", tmp("y.avr")],
                 ["merge", "nosuch.avr", ROUTER, "-o", tmp("y.avr")]):
        p = expect_error(args, EXIT_ROUTER, "nosuch.avr", "No such file or directory")
        assert p.err.count("nosuch.avr") == 1, p.err


@test
def test_info_missing_file_says_so():
    p = expect_error(["info", "no/such/router.avr"], EXIT_ROUTER,
                     "no/such/router.avr: cannot open: No such file or directory")
    assert "checksum" not in p.out + p.err and "FAILED" not in p.out, p.out


@test
def test_convert_reports_what_it_wrote():
    p = run("convert", "-c", "int8", ROUTER, tmp("c8.avr"), check=0)
    info = run("info", tmp("c8.avr"), check=0).out
    h = re.search(r"^centroid hash\s+(\S+)", info, re.M).group(1)
    assert p.out == f"wrote {tmp('c8.avr')}: centroids int8 (from f32), 16 clusters, 9 models, " \
                    f"dim 384, centroid_hash {h}\n", p.out
    p = run("convert", "-c", "f32", tmp("c8.avr"), tmp("c32.avr"), check=0)
    assert "centroids f32 (from int8)" in p.out


@test
def test_eval_table_explains_vs_best_and_units():
    p = run("eval", "--router", ROUTER, "--data", DATA, "--embeddings", EMB, check=0)
    assert "(vs best: cost per query as a share of the best single model's; 100% = the same cost)" \
        in p.out
    assert "Costs   in" not in p.out
    rows = lines()
    for r in rows:
        r["cost_unit"] = "USD"
    path = write_jsonl(tmp("usd.jsonl"), rows)
    out = tmp("usd.json")
    p = run("eval", "--router", ROUTER, "--data", path, "--embeddings", EMB, "--json", out, check=0)
    assert "Costs   in USD (the data's cost_unit)" in p.out and " USD per query)" in p.out, p.out
    assert json.load(open(out))["data"]["cost_unit"] == "USD"
    rows[20]["cost_unit"] = "EUR"
    expect_error(["eval", "--router", ROUTER, "--data", write_jsonl(tmp("eur.jsonl"), rows),
                  "--embeddings", EMB], EXIT_DATA, ':21: "cost_unit" is "EUR" but an earlier line '
                                                   'says "USD"')


@test
def test_source_date_epoch_gives_identical_files():
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    run("train", "--data", DATA, "--embeddings", EMB, *SMALL, "-o", tmp("d1.avr"), env_extra=env,
        check=0)
    run("train", "--data", DATA, "--embeddings", EMB, *SMALL, "-o", tmp("d2.avr"), env_extra=env,
        check=0)
    with open(tmp("d1.avr"), "rb") as a, open(tmp("d2.avr"), "rb") as b:
        assert a.read() == b.read(), "identical runs wrote different bytes"
    info = run("info", tmp("d1.avr"), check=0).out
    assert re.search(r"^\s+created\s+2023-11-14T22:13:20Z$", info, re.M), info  # date -u -d @1700000000
    expect_error(["train", "--data", DATA, "--embeddings", EMB, *SMALL, "-o", tmp("d3.avr")],
                 EXIT_USAGE, "SOURCE_DATE_EPOCH=yesterday", env_extra={"SOURCE_DATE_EPOCH": "yesterday"})


@test
def test_tune_progress_on_a_terminal():
    """On a terminal, --tune shows one line per fold fit and scored fold: 4 k x 5 folds = 20 fits
    (then the final one), 432 candidates (144 structures x 3 safety levels) x 5 folds = 2160
    candidate scores."""
    master, slave = pty.openpty()
    p = subprocess.Popen([AVENGERS, "train", "--data", DATA, "--embeddings", EMB, "--tune", "-o",
                          tmp("tuned.avr")], cwd=ROOT, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    buf = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    out = p.stdout.read().decode()
    assert p.wait() == 0, out
    os.close(master)
    shown = [x for x in buf.decode().replace("\n", "\r").split("\r") if x.startswith("tuning")]
    fits = [x for x in shown if ": fitting" in x]
    scored = [x for x in shown if ": scored" in x]
    assert len(fits) == 20 and len(scored) == 20, shown[:4]
    assert fits[0].startswith("tuning: fold 1/5, k 60: fitting  (fit 1/21, 0/2160 candidate scores)")
    assert scored[-1].startswith("tuning: fold 5/5, k 300: scored   (fit 20/21, 2160/2160")
    assert re.match(r"tuning: 2160 of 2160 candidate scores done; fitting the choice \(k \d+\)",
                    shown[-1]), shown[-1]
    assert "over 432 candidates" in out
    # not a terminal: nothing on stderr
    p = run("train", "--data", DATA, "--embeddings", EMB, *SMALL, "-o", tmp("q.avr"), check=0)
    assert p.err == ""


@test
def test_train_halving_options():
    """--halving and --halving-min-rows: bad values and use without --tune are usage errors, and
    no router is written."""
    base = ["train", "--data", DATA, "--embeddings", EMB, "-o", tmp("h.avr")]
    expect_error(base + ["--tune", "--halving", "1"], EXIT_USAGE, "--halving 1: expected auto, off or 2..16")
    expect_error(base + ["--tune", "--halving", "17"], EXIT_USAGE, "--halving 17")
    expect_error(base + ["--tune", "--halving-min-rows", "9"], EXIT_USAGE,
                 "--halving-min-rows 9: expected at least 10")
    expect_error(base + ["--halving", "3"], EXIT_USAGE, "apply to --tune only")
    assert not os.path.exists(tmp("h.avr"))


@test
def test_calibrate_share_budget_accuracy():
    """calibrate --share: the strong model's share at the printed alpha, counted here from route's
    own output on the same embeddings, reaches the target, and one grid step lower does not;
    --budget and --accuracy print an alpha that av_route's expected means satisfy; bad usage and
    an unreachable accuracy get their exit codes."""
    strong = "llama-3.1-nemotron-51b-instruct"
    p = run("calibrate", "--router", ROUTER, "--share", "0.3", "--models", strong, "--embeddings",
            EMB, "--grid", "21", check=0)
    m = re.match(r"alpha ([0-9.e-]+): \S+ receive ([0-9.e-]+) of the queries \(asked 0.3\)", p.out)
    assert m, p.out
    alpha, share = float(m.group(1)), float(m.group(2))

    def routed_share(a):
        out = run("route", "--router", ROUTER, "--embeddings", EMB, "--alpha", repr(a), check=0).out
        names = [json.loads(line)["name"] for line in out.splitlines() if line.strip()]
        return sum(n == strong for n in names) / len(names)

    assert abs(routed_share(alpha) - share) < 1e-4 and share >= 0.3  # printed with 4 digits
    assert routed_share(round(alpha - 0.05, 2)) < 0.3
    p = run("calibrate", "--router", ROUTER, "--budget", "2e-5", check=0)
    m = re.search(r"mean cost ([0-9.e-]+) per query, on the training statistics \(16 clusters\)",
                  p.out)
    assert m and float(m.group(1)) <= 2e-5, p.out
    p = run("calibrate", "--router", ROUTER, "--accuracy", "0.99", check=3)
    assert "0.99" in p.err
    no_repeats(p.err)
    for bad in (["--share", "0.3"], ["--share", "1.5", "--models", strong], ["--budget", "1"],
                ["--share", "0.3", "--models", "nobody"]):
        args = ["calibrate", "--router", ROUTER, *bad] if bad != ["--budget", "1"] else \
               ["calibrate", "--budget", "1"]
        run(*args, check=1)


@test
def test_check_summary_shows_skipped_suites():
    """tests/run_suites.sh, run with a stand-in for make that prints canned suite output: a suite
    that only skipped is shown as SKIPPED with its reason, not as "0 passed, 0 failed"."""
    fake = tmp("fake-make")
    with open(fake, "w") as f:
        f.write("""#!/bin/sh
case "$3" in
check-a) echo "3 passed, 0 failed";;
check-dask) echo "SKIPPED [1] tests/dask/t.py:20: dask.distributed is not installed"
  echo "1 skipped in 0.1s"; echo "0 passed, 0 failed";;
check-rust) echo "check-rust: skipped, cargo not found (35 Rust tests not run)"; echo "0 passed, 0 failed";;
check-py) echo "5 passed, 2 skipped in 3.1s";;
check-bad) echo "1 passed, 1 failed"; exit 1;;
esac
""")
    os.chmod(fake, 0o755)
    p = subprocess.run(["sh", os.path.join(ROOT, "tests", "run_suites.sh"), "a", "dask", "rust",
                        "py", "bad"], capture_output=True, text=True, env=dict(os.environ, MAKE=fake))
    summary = p.stdout.split("==== summary\n")[1].splitlines()
    assert summary == ["  a: 3 passed, 0 failed",
                       "  dask: SKIPPED (1 skipped): dask.distributed is not installed",
                       "  rust: SKIPPED (35 skipped): check-rust: skipped, cargo not found (35 Rust "
                       "tests not run)",
                       "  py: 5 passed, 0 failed, 2 skipped",
                       "  bad: 1 passed, 1 failed",
                       "38 skipped (see above)",
                       "9 passed, 1 failed"], summary
    assert p.returncode == 1


def run_tests():
    for fn in TESTS:
        try:
            fn()
            results.append((fn.__name__, None))
            print(f"ok   {fn.__name__}")
        except Exception as e:  # a failed check or an unexpected error both fail the test
            results.append((fn.__name__, e))
            print(f"FAIL {fn.__name__}: {e}")
        sys.stdout.flush()


if __name__ == "__main__":
    try:
        run_tests()
        failed = sum(1 for _, e in results if e)
        print(f"{len(results) - failed} passed, {failed} failed")
        sys.exit(1 if failed else 0)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
