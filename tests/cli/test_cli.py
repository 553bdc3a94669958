#!/usr/bin/python3
"""End-to-end tests of the `avengers` command on the real fixture tests/data/llm9.

Run by `make check-cli` (AVENGERS = path of the command). Prints one line per test and the summary
`N passed, N failed`. Test names as arguments run only those; AVENGERS_RUNNER is put before the
command (wine64 for avengers.exe, docs/PORTABILITY.md). `--update-golden` rewrites tests/cli/golden/ (review the diff before committing).

Golden files: golden/router.avr (trained once with the command, committed so that the goldens do not
depend on k-means rounding on other CPUs), golden/info.txt and golden/eval.json. Creation-time
fields are masked before comparison.
"""
import gzip
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AVENGERS = os.path.abspath(os.environ.get("AVENGERS", os.path.join(ROOT, "build", "bin", "avengers")))
# A program put before the command (wine64 for the Windows build: docs/PORTABILITY.md).
RUNNER = os.environ.get("AVENGERS_RUNNER", "").split()
FIX = "tests/data/llm9"
DATA = f"{FIX}/data.jsonl.gz"
EMB = f"{FIX}/emb.npy"
GOLDEN = "tests/cli/golden"
ROUTER = f"{GOLDEN}/router.avr"
# Training options of the golden router and of the routers compared here (small and fast).
TRAIN_OPTS = ["-k", "16", "--top-p", "4", "--n-init", "2", "--seed", "7"]
ALPHAS = "0:1:0.1"
TOL = 1e-12

EXIT_USAGE, EXIT_DATA, EXIT_ROUTER = 1, 2, 3

results = []
TMP = tempfile.mkdtemp(prefix="avengers-cli-")


def run(*args, check=None, scalar=False, env_extra=None):
    # scalar: force the scalar similarity kernel, so that golden figures do not depend on the
    # rounding of this CPU's SIMD backend (a near-tie between two clusters could flip).
    env = dict(os.environ, **(env_extra or {}))
    if scalar:
        env["AV_SIMD"] = "scalar"
    p = subprocess.run([*RUNNER, AVENGERS, *args], cwd=ROOT, capture_output=True, text=True, env=env)
    if check is not None and p.returncode != check:
        raise AssertionError(f"exit {p.returncode} (want {check}) for {' '.join(args)}\n"
                             f"stdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}")
    return p


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Skip(Exception):
    """A test that cannot run in this setting (printed, counted neither way)."""


def run_tests(only=()):
    for fn in TESTS:
        if only and fn.__name__ not in only:
            continue
        try:
            fn()
            results.append((fn.__name__, None))
            print(f"ok   {fn.__name__}")
        except Skip as e:
            print(f"skip {fn.__name__}: {e}")
        except Exception as e:  # a failed check or an unexpected error both fail the test
            results.append((fn.__name__, e))
            print(f"FAIL {fn.__name__}: {e}")
        sys.stdout.flush()


def tmp(name):
    return os.path.join(TMP, name)


def read_lines():
    with gzip.open(os.path.join(ROOT, DATA), "rt", encoding="utf-8") as f:
        return [l for l in f.read().split("\n") if l]


def write_lines(path, lines, gz=False):
    opener = gzip.open if gz else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def mask_info(text):
    """Drop what changes with the creation time: the 'created' entry and the metadata CRC."""
    out = []
    for line in text.splitlines():
        if line.strip().startswith("created "):
            continue
        if line.strip().startswith("metadata ") and "crc32" in line:
            line = re.sub(r"\d+ bytes stored, \d+ raw, crc32 [0-9a-f]+", "<masked>", line)
        if line.startswith("file ") or line.startswith("size "):
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def close(a, b, path="$"):
    """Structural equality with numbers equal to TOL (relative) and NaN/None treated alike."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), f"{path}: keys {sorted(set(a) ^ set(b))} differ"
        for k in a:
            close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            close(x, y, f"{path}[{i}]")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        assert abs(a - b) <= TOL * max(1.0, abs(a), abs(b)), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def eval_json(out, *extra, router=ROUTER, data=DATA, emb=EMB, scalar=False):
    run("eval", "--router", router, "--data", data, "--embeddings", emb, "--alphas", ALPHAS,
        "--json", out, "-q", *extra, check=0, scalar=scalar)
    with open(out) as f:
        return json.load(f)


def direct_figures(rows, models):
    """Single-model and oracle figures computed straight from the JSONL lines (numpy)."""
    S = np.array([[r["scores"][m] for m in models] for r in rows], dtype=np.float64)
    C = np.array([[r["costs"][m] for m in models] for r in rows], dtype=np.float64)
    singles = {m: (S[:, i].sum() / len(rows), C[:, i].sum() / len(rows)) for i, m in enumerate(models)}
    o_s = o_c = 0.0
    for i in range(len(rows)):
        best = None
        for j in range(len(models)):  # highest score, then cheapest, then lower index
            if best is None or S[i, j] > S[i, best] or (S[i, j] == S[i, best] and C[i, j] < C[i, best]):
                best = j
        o_s += S[i, best]
        o_c += C[i, best]
    return singles, (o_s / len(rows), o_c / len(rows))


def compare_direct(ev, rows):
    models = ev["router"]["models"]
    singles, (os_, oc) = direct_figures(rows, models)
    assert ev["data"]["rows"] == len(rows), f"{ev['data']['rows']} rows, expected {len(rows)}"
    for s in ev["single_models"]:
        ws, wc = singles[s["model"]]
        assert abs(s["mean_score"] - ws) <= TOL and abs(s["mean_cost"] - wc) <= TOL * max(wc, 1e-300) + 1e-18, \
            f"{s['model']}: ({s['mean_score']}, {s['mean_cost']}) vs direct ({ws}, {wc})"
    assert abs(ev["oracle"]["mean_score"] - os_) <= TOL, f"oracle score {ev['oracle']['mean_score']} vs {os_}"
    assert abs(ev["oracle"]["mean_cost"] - oc) <= TOL * oc, f"oracle cost {ev['oracle']['mean_cost']} vs {oc}"


def splitmix_split(n, ratio, seed):
    """The documented random split (cli/dataset.h), reimplemented: (train rows, test rows)."""
    M = (1 << 64) - 1
    st = seed

    def nxt():
        nonlocal st
        st = (st + 0x9E3779B97F4A7C15) & M
        z = st
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        return z ^ (z >> 31)

    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        bound = i + 1
        threshold = ((1 << 64) - bound) % bound
        while True:
            x = nxt()
            if x >= threshold:
                break
        j = x % bound
        perm[i], perm[j] = perm[j], perm[i]
    n_train = int(math.floor(ratio * n + 0.5))
    return sorted(perm[:n_train]), sorted(perm[n_train:])


# ---------------------------------------------------------------------------------------------
def update_golden():
    os.makedirs(os.path.join(ROOT, GOLDEN), exist_ok=True)
    run("train", "--data", DATA, "--embeddings", EMB, "--split", "train", *TRAIN_OPTS,
        "--embedder-id", "tfidf-svd384", "-o", ROUTER, check=0)
    with open(os.path.join(ROOT, GOLDEN, "info.txt"), "w") as f:
        f.write(mask_info(run("info", ROUTER, check=0).stdout))
    ev = eval_json(os.path.join(ROOT, GOLDEN, "eval.json"), scalar=True)
    print(f"golden files rewritten under {GOLDEN} ({ev['data']['rows']} test rows)")


@test
def test_info_golden():
    got = mask_info(run("info", ROUTER, check=0).stdout)
    with open(os.path.join(ROOT, GOLDEN, "info.txt")) as f:
        want = f.read()
    assert got == want, "info output differs from golden/info.txt:\n" + got
    assert "checksum        ok" in got


@test
def test_eval_json_golden():
    got = eval_json(tmp("eval.json"), scalar=True)
    with open(os.path.join(ROOT, GOLDEN, "eval.json")) as f:
        want = json.load(f)
    close(got, want)


@test
def test_eval_reports_alphas_as_given():
    # The library keeps alphas as float32; JSON and CSV give back the numbers written on the
    # command line (0.22, not 0.2199999988079071), in the points and in the frontier.
    out, csv = tmp("alphas_given.json"), tmp("alphas_given.csv")
    given = [0.22, 0.7, 0.95, 1e-3, 1.0]
    run("eval", "--router", ROUTER, "--data", DATA, "--embeddings", EMB, "--alphas",
        ",".join(repr(a) for a in given), "--json", out, "--csv", csv, "-q", check=0)
    with open(out) as f:
        text = f.read()
    ev = json.loads(text)
    assert sorted(p["alpha"] for p in ev["router_points"]) == sorted(given)
    assert all(e["alpha"] in given for e in ev["frontier"] if "alpha" in e)
    assert "0.2199999" not in text and "0.69999998" not in text and "0.94999998" not in text
    with open(csv) as f:
        body = f.read()
    assert "0.2199999" not in body and "0.22," in body and "0.001," in body


@test
def test_eval_singles_oracle_direct_split_field():
    ev = eval_json(tmp("eval_field.json"))
    rows = [json.loads(l) for l in read_lines()]
    compare_direct(ev, [r for r in rows if r["split"] == "test"])


@test
def test_random_split_train_and_eval_agree():
    """train and eval with --split-by random pick complementary rows by the documented algorithm."""
    out = tmp("rand.avr")
    p = run("train", "--data", DATA, "--embeddings", EMB, "--split-by", "random", "--train-ratio", "0.7",
            *TRAIN_OPTS, "-o", out, check=0)
    train_rows, test_rows = splitmix_split(1200, 0.7, 7)
    assert f"{len(train_rows)} training rows" in p.stdout, p.stdout
    ev = eval_json(tmp("eval_rand.json"), "--split-by", "random", "--train-ratio", "0.7", "--seed", "7",
                   router=out)
    rows = [json.loads(l) for l in read_lines()]
    compare_direct(ev, [rows[i] for i in test_rows])
    info = run("info", out, check=0).stdout
    assert f"n_train_rows         {len(train_rows)}" in info, info


@test
def test_avengerspro_format_same_router():
    """The fixture converted to Avengers-Pro lines trains the same router as our format."""
    lines = read_lines()
    pro = []
    for i, l in enumerate(lines):
        r = json.loads(l)
        pro.append(json.dumps({
            "query": r["query"], "dataset": r["benchmark"], "index": i,
            "records": r["scores"],
            "usages": {m: {"cost": c, "prompt_tokens": 1, "completion_tokens": 0} for m, c in r["costs"].items()},
        }))
    write_lines(tmp("pro.jsonl"), pro)
    ours, theirs = tmp("ours.avr"), tmp("pro.avr")
    run("train", "--data", DATA, "--embeddings", EMB, "--split", "all", *TRAIN_OPTS, "-o", ours, check=0)
    run("train", "--data", tmp("pro.jsonl"), "--format", "avengerspro", "--embeddings", EMB,
        "--split", "all", *TRAIN_OPTS, "-o", theirs, check=0)

    def body(path):  # everything but file name, size and metadata (which names the data file)
        text = mask_info(run("info", path, check=0).stdout)
        return text.split("metadata        ")[0]
    a, b = body(ours), body(theirs)
    assert a == b, f"info differs:\n{a}\n----\n{b}"
    assert "centroids" in a and "statistics" in a
    for alpha in ("0", "0.5", "1"):
        ra = run("route", "--router", ours, "--embeddings", EMB, "--alpha", alpha, check=0).stdout
        rb = run("route", "--router", theirs, "--embeddings", EMB, "--alpha", alpha, check=0).stdout
        assert ra == rb and ra.count("\n") == 1200, f"route differs at alpha {alpha}"


@test
def test_route_output():
    p = run("route", "--router", ROUTER, "--embeddings", EMB, "--alpha", "1", check=0)
    rows = [json.loads(l) for l in p.stdout.splitlines()]
    assert len(rows) == 1200 and rows[5]["row"] == 5
    info = run("info", ROUTER, check=0).stdout
    models = re.findall(r"^\s+\d+\s+(\S+)\s+\d+\s", info, re.M)
    assert all(models[r["model"]] == r["name"] for r in rows), "index and name disagree"


@test
def test_csv_and_svg_outputs():
    run("eval", "--router", ROUTER, "--data", DATA, "--embeddings", EMB, "--alphas", "0,0.5,1",
        "--csv", tmp("e.csv"), "--svg", tmp("e.svg"), "-q", check=0)
    with open(tmp("e.csv")) as f:
        csv = f.read().splitlines()
    assert csv[0].startswith("kind,name,alpha,mean_score") and len(csv) == 1 + 9 + 3 + 1, csv[:3]
    import xml.etree.ElementTree as ET
    svg = ET.parse(tmp("e.svg")).getroot()
    texts = "".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "gemma-2-9b-it" in texts and "oracle" in texts and "mean cost per query" in texts


@test
def test_table_output():
    p = run("eval", "--router", ROUTER, "--data", DATA, "--embeddings", EMB, "--alphas", ALPHAS, check=0)
    for want in ("Single models", "Router", "Oracle", "Pareto frontier", "PerfGain", "CostSave",
                 "ParetoDist", "AUC", "alpha 0.5"):
        assert want in p.stdout, f"table lacks {want!r}"


@test
def test_train_ensemble_members():
    """--members N trains N clusterings of K clusters; info reports them and counts each training
    outcome once; eval and route run on the 1.2 file."""
    out = tmp("ens.avr")
    p = run("train", "--data", DATA, "--embeddings", EMB, "-k", "6", "--top-p", "2", "--n-init", "1",
            "--members", "3", "-o", out, check=0)
    assert "wrote" in p.stdout and "18 clusters (3 clusterings of 6)" in p.stdout, p.stdout
    info = run("info", out, check=0).stdout
    assert re.search(r"^format\s+1\.2$", info, re.M), info
    assert re.search(r"^members\s+3 clusterings of 6 clusters$", info, re.M), info
    n_train = int(re.search(r"n_train_rows\s+(\d+)", info).group(1))
    counts = [int(c) for c in re.findall(r"^\s+\d+\s+\S+\s+(\d+)\s", info, re.M)]
    assert counts and all(c == n_train for c in counts), (counts, n_train)
    ev = eval_json(tmp("ens.json"), router=out)
    assert ev["router"]["n_clusters"] == 18 and ev["router"]["members"] == 3, ev["router"]
    assert ev["data"]["rows"] == 77 and len(ev["router_points"]) == 11
    r = run("route", "--router", out, "--embeddings", EMB, "--alpha", "0.5", check=0).stdout
    assert r.count("\n") == 1200
    expect_error(["train", "--data", DATA, "--embeddings", EMB, "--members", "17", "-o", tmp("x.avr")],
                 EXIT_USAGE, "--members")
    expect_error(["train", "--data", DATA, "--embeddings", EMB, "--members", "16", "--top-p", "5",
                  "-o", tmp("x.avr")], EXIT_USAGE, "at most 64 clusters")


@test
def test_train_mapped_and_sampled():
    """A float32 .npy is memory-mapped and its rows borrowed; the same rows as float64 (read and
    converted, not mapped) train the same router, with --algorithm full and sampled; sampled
    reports its sample and passes."""
    e64 = tmp("emb64.npy")
    np.save(e64, np.load(os.path.join(ROOT, EMB)).astype(np.float64))
    for alg in ("full", "sampled"):
        outs = []
        for emb in (EMB, e64):
            out = tmp(f"{alg}_{len(outs)}.avr")
            p = run("train", "--data", DATA, "--embeddings", emb, *TRAIN_OPTS, "--algorithm", alg,
                    "--sample-size", "300", "-o", out, check=0, env_extra={"SOURCE_DATE_EPOCH": "0"})
            outs.append(out)
            if alg == "sampled":
                assert re.search(r"sampled k-means: a sample of \d+ rows, then \d+ passes", p.stdout), p.stdout
            else:
                assert "sampled" not in p.stdout
        body = [mask_info(run("info", o, check=0).stdout).split("metadata        ")[0] for o in outs]
        assert body[0] == body[1], f"{alg}: mapped and converted embeddings differ"
    expect_error(["train", "--data", DATA, "--embeddings", EMB, "--algorithm", "minibatch",
                  "-o", tmp("x.avr")], EXIT_USAGE, "--algorithm")
    expect_error(["train", "--data", DATA, "--embeddings", EMB, "--sample-size", "0",
                  "-o", tmp("x.avr")], EXIT_USAGE, "--sample-size")


# ---- bad inputs: message and exit code --------------------------------------------------------
def expect_error(args, code, *needles):
    p = run(*args)
    assert p.returncode == code, f"exit {p.returncode}, want {code}; stderr: {p.stderr}"
    for n in needles:
        assert n in p.stderr, f"stderr lacks {n!r}: {p.stderr}"


def bad_data(name, mutate_line, lineno):
    lines = read_lines()
    lines[lineno - 1] = mutate_line(lines[lineno - 1])
    path = tmp(name)
    write_lines(path, lines)
    return path


@test
def test_bad_malformed_json():
    path = bad_data("malformed.jsonl", lambda l: l[:40], 5)
    expect_error(["eval", "--router", ROUTER, "--data", path, "--embeddings", EMB], EXIT_DATA,
                 f"{path}:5: malformed JSON")


@test
def test_bad_missing_model_in_line():
    def drop(l):
        r = json.loads(l)
        del r["scores"]["gemma-2-9b-it"]
        return json.dumps(r)
    path = bad_data("missing.jsonl", drop, 3)
    expect_error(["train", "--data", path, "--embeddings", EMB, "-o", tmp("x.avr")], EXIT_DATA,
                 f"{path}:3: model 'gemma-2-9b-it' is missing from \"scores\"")


@test
def test_bad_router_model_not_in_data():
    lines = [l.replace('"qwen2.5-7b-instruct"', '"qwen-renamed"') for l in read_lines()]
    write_lines(tmp("renamed.jsonl"), lines)
    expect_error(["eval", "--router", ROUTER, "--data", tmp("renamed.jsonl"), "--embeddings", EMB],
                 EXIT_ROUTER, "the router's model 'qwen2.5-7b-instruct' is not in")


@test
def test_bad_row_count_mismatch():
    np.save(tmp("short.npy"), np.load(os.path.join(ROOT, EMB))[:-1])
    expect_error(["eval", "--router", ROUTER, "--data", DATA, "--embeddings", tmp("short.npy")],
                 EXIT_DATA, "has 1199 rows", "has 1200 data lines")


@test
def test_bad_non_finite_value():
    path = bad_data("inf.jsonl", lambda l: re.sub(r'("costs":\{"[^"]+":)[^,}]+', r"\g<1>1e999", l), 7)
    expect_error(["train", "--data", path, "--embeddings", EMB, "-o", tmp("x.avr")], EXIT_DATA,
                 f"{path}:7: cost of model", "not a finite number")


@test
def test_bad_npy_dtype():
    np.save(tmp("int.npy"), np.zeros((1200, 384), dtype=np.int32))
    expect_error(["eval", "--router", ROUTER, "--data", DATA, "--embeddings", tmp("int.npy")],
                 EXIT_DATA, f"{tmp('int.npy')}: dtype '<i4' is not supported")


@test
def test_bad_npy_fortran_order():
    np.save(tmp("fortran.npy"), np.asfortranarray(np.load(os.path.join(ROOT, EMB))))
    expect_error(["eval", "--router", ROUTER, "--data", DATA, "--embeddings", tmp("fortran.npy")],
                 EXIT_DATA, "Fortran order")


@test
def test_bad_missing_file():
    expect_error(["eval", "--router", ROUTER, "--data", "no/such/file.jsonl", "--embeddings", EMB],
                 EXIT_DATA, "no/such/file.jsonl: cannot open: No such file or directory")
    expect_error(["info", "no/such/router.avr"], EXIT_ROUTER, "no/such/router.avr")


@test
def test_bad_router_checksum():
    with open(os.path.join(ROOT, ROUTER), "rb") as f:
        b = bytearray(f.read())
    b[len(b) // 2] ^= 0x40
    with open(tmp("flipped.avr"), "wb") as f:
        f.write(b)
    p = run("info", tmp("flipped.avr"))
    assert p.returncode == EXIT_ROUTER and "checksum" in p.stderr, p.stderr
    assert "FAILED" in p.stdout


@test
def test_bad_usage():
    expect_error(["eval", "--router", ROUTER, "--alphas", "2:3:1", "--data", DATA, "--embeddings", EMB],
                 EXIT_USAGE, "--alphas")
    expect_error(["frobnicate"], EXIT_USAGE, "unknown command")
    for cmd in ("train", "eval", "route", "info"):
        p = run(cmd, "--help")
        assert p.returncode == 0 and "usage: avengers " + cmd in p.stdout, cmd


@test
def test_raw_float32_embeddings():
    e = np.load(os.path.join(ROOT, EMB))
    e.astype("<f4").tofile(tmp("emb.f32"))
    a = run("route", "--router", ROUTER, "--embeddings", EMB, check=0).stdout
    b = run("route", "--router", ROUTER, "--embeddings", tmp("emb.f32"), "--dim", "384", check=0).stdout
    assert a == b
    expect_error(["route", "--router", ROUTER, "--embeddings", tmp("emb.f32"), "--dim", "383"],
                 EXIT_DATA, "not a whole number of rows")


# ---- hostile inputs: size limit, gzip framing, strict JSON lines (defect 11) ------------------
BLAS1 = dict(os.environ, OPENBLAS_NUM_THREADS="1")  # no BLAS threads: a small RLIMIT_AS suffices
AS_LIMIT = 256 << 20      # address space allowed to a run that reads a gzip bomb
NEWLINE_MEMBER = 16 << 20  # newlines per gzip member of the bomb
BOMB_MEMBERS = 32          # 512 MiB of newlines in about half a megabyte


PEAK_RSS_LIMIT = 160 << 20  # resident memory allowed to the same run (ASan builds included)


def run_limited(*args, env=None):
    """Run the command with at most AS_LIMIT bytes of address space, so that a reader that keeps
    what it decompresses fails (out of memory) instead of taking the machine's memory, and
    measure its peak resident memory (.peak_rss, bytes). Under a sanitizer (ASAN_OPTIONS set:
    `make asan`), which reserves terabytes of address space, only the peak is checked."""
    if RUNNER:
        raise Skip("an address-space limit (RLIMIT_AS) on the runner "
                   f"({os.path.basename(RUNNER[0])}) would limit the runner itself")
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
    sanitized = "ASAN_OPTIONS" in os.environ
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([*RUNNER, AVENGERS, *args], cwd=ROOT, stdout=out, stderr=err,
                             env=env or BLAS1, preexec_fn=None if sanitized else cap)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        res = subprocess.CompletedProcess(p.args, p.returncode, out.read().decode(errors="replace"),
                                          err.read().decode(errors="replace"))
    res.peak_rss = usage.ru_maxrss * 1024  # Linux reports kilobytes
    return res


def newline_bomb():
    path = tmp("newlines.jsonl.gz")
    if not os.path.exists(path):
        member = gzip.compress(b"\n" * NEWLINE_MEMBER, 9)
        with open(path, "wb") as f:
            f.write(member * BOMB_MEMBERS)  # concatenated members: legal gzip
    return path


def eval_args(data, *extra, router=ROUTER, emb=EMB):
    return ["eval", "--router", router, "--data", data, "--embeddings", emb, "-q", *extra]


@test
def test_input_gzip_of_newlines_bounded():
    """512 MiB of newlines in half a megabyte of gzip: 'no data lines' within 256 MiB of address
    space (0.2.0 kept every decompressed byte: 1 GB for the 1 MB case of the report)."""
    bomb = newline_bomb()
    assert os.path.getsize(bomb) < 1 << 20
    p = run_limited(*eval_args(bomb))
    assert p.returncode == EXIT_DATA and f"{bomb}: no data lines" in p.stderr, (p.returncode, p.stderr)
    assert p.peak_rss < PEAK_RSS_LIMIT, f"peak RSS {p.peak_rss >> 20} MiB"
    # and the same data, read normally, still works under the same cap
    p = run_limited(*eval_args(DATA))
    assert p.returncode == 0, p.stderr


@test
def test_input_limit_option_and_env():
    bomb = newline_bomb()
    p = run_limited(*eval_args(bomb, "--max-input-bytes", "1M"))
    assert p.returncode == EXIT_DATA, (p.returncode, p.stderr)
    assert "more than 1048576 bytes of input after decompression" in p.stderr, p.stderr
    assert "--max-input-bytes" in p.stderr and "AVENGERS_MAX_INPUT_BYTES" in p.stderr, p.stderr
    env = dict(BLAS1, AVENGERS_MAX_INPUT_BYTES="100k")
    p = run_limited(*eval_args(DATA), env=env)
    assert p.returncode == EXIT_DATA and "more than 102400 bytes of input" in p.stderr, p.stderr
    p = run_limited(*eval_args(DATA, "--max-input-bytes", "64M"), env=env)  # the option wins
    assert p.returncode == 0, p.stderr
    # a plain file over the limit is refused before it is read; route's embeddings too
    write_lines(tmp("plain.jsonl"), read_lines())
    expect_error(eval_args(tmp("plain.jsonl"), "--max-input-bytes", "1000"), EXIT_DATA,
                 f"{tmp('plain.jsonl')}: more than 1000 bytes of input (the limit")
    expect_error(["route", "--router", ROUTER, "--embeddings", EMB, "--max-input-bytes", "4K"],
                 EXIT_DATA, f"{EMB}: more than 4096 bytes of input")
    expect_error(eval_args(DATA, "--max-input-bytes", "0"), EXIT_USAGE, "--max-input-bytes 0")
    expect_error(eval_args(DATA, "--max-input-bytes", "12Q"), EXIT_USAGE, "--max-input-bytes 12Q")
    p = run(*eval_args(DATA), env_extra={"AVENGERS_MAX_INPUT_BYTES": "lots"})
    assert p.returncode == EXIT_USAGE and "AVENGERS_MAX_INPUT_BYTES=lots" in p.stderr, p.stderr
    for cmd in ("train", "eval", "route"):
        assert "--max-input-bytes" in run(cmd, "--help", check=0).stdout, cmd


def raw_data():
    with gzip.open(os.path.join(ROOT, DATA), "rb") as f:
        return f.read()


@test
def test_input_gzip_members_and_trailing_garbage():
    raw = raw_data()
    half = raw.index(b"\n", len(raw) // 2) + 1
    with open(tmp("members.jsonl.gz"), "wb") as f:  # two members, split inside the data
        f.write(gzip.compress(raw[:half]) + gzip.compress(raw[half:]))
    a = eval_json(tmp("m1.json"), data=tmp("members.jsonl.gz"))
    b = eval_json(tmp("m2.json"))
    close(a["single_models"], b["single_models"])
    assert a["data"]["rows"] == b["data"]["rows"]
    whole = gzip.compress(raw)
    for name, tail in (("garbage", b"garbage\n"), ("zero", b"\0"), ("magic1", b"\x1f"),
                       ("json", b'{"scores": {}}\n')):
        path = tmp(f"trail_{name}.jsonl.gz")
        with open(path, "wb") as f:
            f.write(whole + tail)
        expect_error(eval_args(path), EXIT_DATA,
                     f"{path}: trailing garbage after the gzip data at byte {len(whole)}")
    with open(tmp("trunc.jsonl.gz"), "wb") as f:
        f.write(whole[:-6])
    expect_error(eval_args(tmp("trunc.jsonl.gz")), EXIT_DATA, "truncated gzip data")
    with open(tmp("emb.npy.gz"), "wb") as f:  # embeddings go through the same reader
        with open(os.path.join(ROOT, EMB), "rb") as e:
            f.write(gzip.compress(e.read()) + b"junk")
    expect_error(eval_args(DATA, emb=tmp("emb.npy.gz")), EXIT_DATA, "trailing garbage")


def bad_bytes(name, lineno, mutate):
    """The fixture as bytes with line `lineno` (1-based) replaced by mutate(line)."""
    lines = raw_data().split(b"\n")
    lines[lineno - 1] = mutate(lines[lineno - 1])
    path = tmp(name)
    with open(path, "wb") as f:
        f.write(b"\n".join(lines))
    return path


def subst(old, new):
    def f(line):
        assert old in line, (old, line[:200])
        return line.replace(old, new, 1)
    return f


@test
def test_input_duplicate_keys():
    path = bad_bytes("dup_split.jsonl", 3, lambda l: l[:-1] + b',"split":"train"}')
    expect_error(eval_args(path), EXIT_DATA, f'{path}:3: duplicate key "split"')
    path = bad_bytes("dup_scores.jsonl", 6, lambda l: l[:-1] + b',"scores":{}}')
    expect_error(eval_args(path), EXIT_DATA, f'{path}:6: duplicate key "scores"')
    pro = []
    for i, l in enumerate(read_lines()[:40]):
        r = json.loads(l)
        usage = ", ".join(f'"{m}": {{"cost": {c}}}' for m, c in r["costs"].items())
        if i == 9:
            usage = usage.replace('{"cost": ', '{"cost": 0, "cost": ', 1)
        pro.append(json.dumps({"records": r["scores"]})[:-1] + f', "usages": {{{usage}}}}}')
    write_lines(tmp("dup_pro.jsonl"), pro)
    p = run("train", "--data", tmp("dup_pro.jsonl"), "--embeddings", EMB, "--split", "all",
            "-k", "4", "--top-p", "2", "-o", tmp("x.avr"))
    assert p.returncode == EXIT_DATA and f'{tmp("dup_pro.jsonl")}:10: duplicate key "cost" in' in p.stderr, p.stderr


@test
def test_input_raw_nul_and_control_characters():
    for name, bad, what in (("nul", b"\x00", "raw NUL byte in a string"),
                            ("soh", b"\x01", "raw control character U+0001 in a string"),
                            ("esc", b"\x1b[2J", "raw control character U+001B in a string"),
                            ("tab", b"\t", "raw control character U+0009 in a string")):
        path = bad_bytes(f"ctl_{name}.jsonl", 4, subst(b'"query":"', b'"query":"a' + bad))
        with open(path, "rb") as f:
            col = f.read().split(b"\n")[3].index(bad) + 1
        p = run_bytes(*eval_args(path))
        assert p.returncode == EXIT_DATA, (name, p.returncode, p.stderr)
        err = p.stderr.decode("utf-8")
        assert f"{path}:4: {what} at column {col}" in err, err
        assert "\x1b" not in err, err
    # a NUL in a key cut the key short in 0.2.0 (cJSON keeps C strings): refused, raw or escaped
    path = bad_bytes("nul_key.jsonl", 2, subst(b'"gemma-2-9b-it":', b'"gemma-2-9b-it\x00x":'))
    expect_error(eval_args(path), EXIT_DATA, f"{path}:2: raw NUL byte in a string")
    path = bad_bytes("u0000_key.jsonl", 2, subst(b'"gemma-2-9b-it":', b'"gemma-2-9b-it\\u0000x":'))
    expect_error(eval_args(path), EXIT_DATA, f"{path}:2: an escaped NUL (U+0000) in a string")
    # escaped control characters are valid JSON, but not in a model name
    path = bad_bytes("esc_name.jsonl", 1, lambda l: l.replace(b'"gemma-2-9b-it"', b'"gemma\\u001b[2J"'))
    p = run_bytes(*eval_args(path))
    err = p.stderr.decode("utf-8")
    assert p.returncode == EXIT_DATA and "\x1b" not in err, err
    assert f"{path}:1: model name 'gemma\\x1b[2J' contains the control character U+001B" in err, err


@test
def test_input_strict_json_lines():
    cases = (
        ("trailing.jsonl", 5, lambda l: l + b" {}", "malformed JSON at column", "text after the end"),
        ("utf8.jsonl", 7, subst(b'"query":"', b'"query":"\xff'), "invalid UTF-8 (byte 0xFF) in a string", ""),
        ("zero.jsonl", 8, lambda l: l.replace(b'"split":', b'"n":01,"split":', 1),
         "number with a leading zero", ""),
        ("bom.jsonl", 1, lambda l: b"\xef\xbb\xbf" + l, "byte order mark", ""),
        ("surrogate.jsonl", 9, subst(b'"query":"', b'"query":"\\ud800'), "unpaired surrogate U+D800", ""),
    )
    for name, lineno, mutate, want, want2 in cases:
        path = bad_bytes(name, lineno, mutate)
        expect_error(eval_args(path), EXIT_DATA, f"{path}:{lineno}: ", want, want2)


@test
def test_input_line_numbers_across_chunks():
    """Blank lines (many) and long lines: line numbers stay exact with the streaming reader."""
    lines = read_lines()
    blank = "\n" * 3_000_000  # spans several read chunks
    text = lines[0] + "\n" + blank + lines[1][:-1] + "}}\n"
    with gzip.open(tmp("blank.jsonl.gz"), "wt") as f:
        f.write(text)
    expect_error(eval_args(tmp("blank.jsonl.gz")), EXIT_DATA,
                 f"{tmp('blank.jsonl.gz')}:3000002: malformed JSON")


@test
def test_input_npy_header_strict():
    """The .npy header dict: exactly NumPy's three keys, each once (0.2.0 took the first of two
    'descr' and ignored unknown keys), and the newline that ends it."""
    body = np.load(os.path.join(ROOT, EMB)).astype("<f4").tobytes()

    def npy(name, header, nl=True):
        h = header.encode()
        pad = (-(10 + len(h) + 1)) % 64
        h = h + b" " * pad + (b"\n" if nl else b" ")
        with open(tmp(name), "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h + body)
        return tmp(name)
    ok = npy("ok.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1200, 384), }")
    run(*eval_args(DATA, emb=ok), check=0)
    for name, header, want in (
            ("dup.npy", "{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (1200, 384), }",
             "key 'descr' appears twice in the .npy header"),
            ("extra.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1200, 384), 'x': 1}",
             "unknown key 'x' in the .npy header"),
            ("after.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1200, 384)} junk",
             "text after the dict in the .npy header")):
        expect_error(eval_args(DATA, emb=npy(name, header)), EXIT_DATA, f"{tmp(name)}: {want}")
    nonl = npy("nonl.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1200, 384), }", nl=False)
    expect_error(eval_args(DATA, emb=nonl), EXIT_DATA, "does not end with a newline")


# ---- output escaping (defect 8, CLI half) ------------------------------------------------------
def run_bytes(*args, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([*RUNNER, AVENGERS, *args], cwd=ROOT, capture_output=True, env=env)


def avr_rewrite(src, dst, names=None, meta_extra=()):
    """Rewrite a router file (docs/FORMAT.md) with other model names and extra metadata entries,
    every section stored raw, offsets, sizes and CRC32s recomputed. The library's own builder may
    refuse such names; old versions and bugs wrote them."""
    import struct
    import zlib
    with open(src, "rb") as f:
        b = f.read()
    n_sec = struct.unpack_from("<I", b, 32)[0]
    secs = []
    for i in range(n_sec):
        sid, enc, off, stored, raw, crc, _ = struct.unpack_from("<IIQQQII", b, 64 + 40 * i)
        data = b[off:off + stored]
        secs.append([sid, zlib.decompress(data) if enc == 1 else data])
    for s in secs:
        if s[0] == 1 and names is not None:
            s[1] = b"".join(struct.pack("<H", len(n)) + n for n in names)
        if s[0] == 4 and meta_extra:
            count = struct.unpack_from("<I", s[1], 0)[0]
            extra = b"".join(struct.pack("<H", len(k)) + k + struct.pack("<I", len(v)) + v
                             for k, v in meta_extra)
            s[1] = struct.pack("<I", count + len(meta_extra)) + s[1][4:] + extra
    pos = 64 + 40 * len(secs)
    table, body = b"", b""
    for sid, data in secs:
        pad = (-pos) % 8
        body += b"\0" * pad
        pos += pad
        table += struct.pack("<IIQQQII", sid, 0, pos, len(data), len(data), zlib.crc32(data), 0)
        body += data
        pos += len(data)
    size = pos + 8
    head = bytearray(b[:64])
    struct.pack_into("<I", head, 32, len(secs))
    struct.pack_into("<Q", head, 40, size)
    out = bytes(head) + table + body
    out += struct.pack("<II", zlib.crc32(out), 0x52564145)
    with open(dst, "wb") as f:
        f.write(out)


EVIL = b"\x1b[31m\xff\x7f\xc2\x9b"  # ESC sequence, an invalid byte, DEL, C1 CSI (U+009B)
EVIL_TEXT = "\\x1b[31m\\xff\\x7f\\xc2\\x9b"


def evil_router():
    path = tmp("evil.avr")
    if not os.path.exists(path):
        info = run("info", ROUTER, check=0).stdout
        models = re.findall(r"^\s+\d+\s+(\S+)\s+\d+\s", info, re.M)
        avr_rewrite(os.path.join(ROOT, ROUTER), path,
                    names=[m.encode() + EVIL for m in models],
                    meta_extra=[(b"note\x1b]0;title\x07", b"value\x1b[2J\xc3(\tend"),
                                (b"path", b"C:\\data")])
    return path


def assert_clean(text_bytes, what):
    text = text_bytes.decode("utf-8")  # valid UTF-8, else UnicodeDecodeError
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    assert not bad, f"{what}: raw control characters {bad!r} in {text[:300]!r}"
    return text


@test
def test_info_escapes_names_metadata_and_path():
    if RUNNER and "wine" in os.path.basename(RUNNER[0]):
        raise Skip("Windows file names cannot hold control characters (the ESC in the path)")
    src = evil_router()
    path = tmp("r\x1b[2J.avr")
    shutil.copy(src, path)
    p = run_bytes("info", path)
    out = assert_clean(p.stdout, "info stdout")
    assert_clean(p.stderr, "info stderr")
    if p.returncode == 0:
        assert "file            " + tmp("r\\x1b[2J.avr") in out, out[:300]
        assert "gemma-2-9b-it" + EVIL_TEXT in out, out
        assert "note\\x1b]0;title\\x07" in out and "value\\x1b[2J\\xc3(\\x09end" in out, out
        assert "C:\\\\data" in out, out  # backslashes doubled: the escapes stay unambiguous
    else:  # a loader that refuses such names: its message is printed escaped
        assert p.returncode == EXIT_ROUTER, p.returncode
        assert tmp("r\\x1b[2J.avr") in out and "FAILED" in out, out


@test
def test_route_output_is_valid_json_with_bad_names():
    path = evil_router()
    p = run_bytes("route", "--router", path, "--embeddings", EMB, "--alpha", "0.5")
    assert_clean(p.stderr, "route stderr")
    if p.returncode == EXIT_ROUTER:  # a loader that refuses such names
        return
    assert p.returncode == 0, p.stderr
    rows = [json.loads(l) for l in assert_clean(p.stdout, "route stdout").splitlines()]
    assert len(rows) == 1200
    for r in rows:
        assert r["name"].endswith("\x1b[31m\ufffd\x7f\x9b"), r
    # eval names the router's (bad) model on stderr, escaped
    p = run_bytes(*eval_args(DATA, router=path))
    assert p.returncode == EXIT_ROUTER, p.returncode
    err = assert_clean(p.stderr, "eval stderr")
    assert EVIL_TEXT in err, err


@test
def test_messages_escape_paths():
    if RUNNER and "wine" in os.path.basename(RUNNER[0]):
        raise Skip("a Windows program's arguments are UTF-16: a byte that is not UTF-8 arrives "
                   "as '?' and cannot be shown escaped")
    p = run_bytes(*eval_args(b"no/such/\x1b[2Jfile\xff.jsonl"))
    err = assert_clean(p.stderr, "stderr")
    assert p.returncode == EXIT_DATA and "no/such/\\x1b[2Jfile\\xff.jsonl: cannot open" in err, err


if __name__ == "__main__":
    try:
        if "--update-golden" in sys.argv:
            update_golden()
            sys.exit(0)
        # test names given on the command line: only those (tests/portability/cross_check.py)
        run_tests([a for a in sys.argv[1:] if not a.startswith("--")])
        failed = sum(1 for _, e in results if e)
        print(f"{len(results) - failed} passed, {failed} failed")
        sys.exit(1 if failed else 0)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
