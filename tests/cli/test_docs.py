#!/usr/bin/python3
"""The documentation against the command and the library it describes: docs/man/avengers.1,
docs/man/libavengers.3, docs/API.md and README.md. Facts are read from their sources (the command's
--help, src/kernels/dispatch.c, src/train/tune.c, the header), never restated here.

Run by `make check-cli-docs` (AVENGERS = path of the command); prints `N passed, N failed`."""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AVENGERS = os.path.abspath(os.environ.get("AVENGERS", os.path.join(ROOT, "build", "bin", "avengers")))
TESTS, results = [], []


def test(fn):
    TESTS.append(fn)
    return fn


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def run(*args):
    return subprocess.run([AVENGERS, *args], capture_output=True, text=True, cwd=ROOT)


def commands():
    """The subcommands `avengers --help` lists."""
    out = run("--help").stdout
    block = out.split("commands:\n")[1].split("\n\n")[0]
    return [l.split()[0] for l in block.splitlines() if l.strip()]


def man_escape(s):
    return s.replace("-", "\\-")


@test
def test_every_command_in_the_man_page_and_readme():
    cmds = commands()
    assert set(cmds) >= {"train", "eval", "route", "info", "merge", "convert"}, cmds
    man, readme = read("docs/man/avengers.1"), read("README.md")
    synopsis = man.split(".SH SYNOPSIS")[1].split(".SH ")[0]
    layout = next(l for l in readme.splitlines() if l.startswith("| `cli/`"))
    for c in cmds:
        assert f"\n.SS {c}\n" in man, f"avengers(1) has no section for {c}"
        assert f".B avengers {c}" in synopsis, f"avengers(1)'s synopsis lacks {c}"
        assert f"`{c}`" in readme, f"README does not name {c}"
        assert c in layout, f"README's layout row for cli/ lacks {c}: {layout}"
        assert run(c, "--help").stdout.startswith(f"usage: avengers {c}"), c


@test
def test_every_option_of_every_command_in_the_man_page():
    man = read("docs/man/avengers.1")
    for c in commands():
        text = run(c, "--help").stdout
        for opt in sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text))):
            assert man_escape(opt) in man, f"avengers(1) does not document {c} {opt}"


@test
def test_man_pages_render_and_carry_the_version():
    version = re.search(r'#define AV_VERSION_STRING "([^"]+)"', read("include/avengers/avengers.h"))
    for page in ("docs/man/avengers.1", "docs/man/libavengers.3"):
        th = next(l for l in read(page).splitlines() if l.startswith(".TH"))
        assert f'"libavengers {version.group(1)}"' in th, f"{page}: {th}"
        if shutil.which("groff"):
            p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(ROOT, page)],
                               capture_output=True, text=True)
            assert p.returncode == 0 and p.stderr == "", f"{page}: {p.stderr}"


@test
def test_how_to_read_the_manual_and_find_the_binary():
    man, readme = read("docs/man/avengers.1"), read("README.md")
    assert "man \\-l docs/man/avengers.1" in man and "build/bin/avengers" in man
    assert "man -l docs/man/avengers.1" in readme and "`build/bin/avengers`" in readme
    cli_mk = read("mk/cli.mk")
    assert "CLI_BIN     := $(BUILDDIR)/bin/avengers" in cli_mk and "BUILDDIR  ?= build" in read("Makefile")


@test
def test_simd_backend_names_everywhere():
    """The names AV_SIMD accepts (src/kernels/dispatch.c) in the header, libavengers(3), avengers(1)
    and API.md's av_simd_backend."""
    names = re.findall(r'strcmp\(name, "(\w+)"\) == 0', read("src/kernels/dispatch.c"))
    assert "avx512vnni" in names and "scalar" in names, names
    header = read("include/avengers/avengers.h")
    simd_line = next(l for l in header.splitlines() if "AV_SIMD=" in l)
    lib3 = read("docs/man/libavengers.3").split(".B AV_SIMD")[1].split(".TP")[0]
    man1 = read("docs/man/avengers.1").split(".B AV_SIMD")[1].split(".TP")[0]
    api = next(l for l in read("docs/API.md").splitlines() if l.startswith("The SIMD kernel set"))
    for n in names:
        assert n in simd_line, f"header's AV_SIMD lacks {n}"
        assert re.search(rf"\b{n}\b", lib3), f"libavengers(3) AV_SIMD lacks {n}"
        assert re.search(rf"\b{n}\b", man1), f"avengers(1) AV_SIMD lacks {n}"
        assert f'"{n}"' in api, f"API.md av_simd_backend lacks {n}"


@test
def test_training_kernels_agree_across_docs():
    """Training's distance blocks come from the library's kernels, or from cblas_sgemm where
    AV_KMEANS_GEMM=blas asks (src/train/kmeans.c): libavengers(3), API.md and THREADING.md say so,
    none says OpenBLAS is unused."""
    assert "cblas_sgemm" in read("src/train/kmeans.c") and "AV_KMEANS_GEMM" in read("src/train/kmeans.c")
    lib3 = read("docs/man/libavengers.3")
    for doc, text in (("libavengers(3)", lib3), ("API.md", read("docs/API.md")),
                      ("THREADING.md", read("docs/THREADING.md"))):
        assert "cblas_sgemm" in text, f"{doc} does not say training uses cblas_sgemm"
        assert "not read by the library" not in text, doc
    assert "AV_KMEANS_GEMM" in lib3 and "AV_KMEANS_GEMM" in read("docs/API.md")
    assert "OPENBLAS_NUM_THREADS" in lib3


@test
def test_train_help_states_the_tuning_grid():
    """train --help lists exactly the default grid of src/train/tune.c, with hard weights only."""
    src = read("src/train/tune.c")
    grid = {n: re.search(rf"static const \w+ {n}\[\] = \{{([^}}]*)\}};", src).group(1)
            for n in ("GRID_K", "GRID_P", "GRID_KAPPA", "GRID_M", "GRID_SAFETY")}
    assert "opts->temperatures = NULL" in src  # no softmax candidates in the default grid
    text = " ".join(run("train", "--help").stdout.split())
    tune = text.split("--tune")[1].split(" -o,")[0]
    for name, what in (("GRID_K", "k"), ("GRID_M", "ensemble size"), ("GRID_P", "top_p"),
                       ("GRID_KAPPA", "kappa"), ("GRID_SAFETY", "safety")):
        values = ", ".join(v.strip() for v in grid[name].split(","))
        assert f"{what} ({values})" in tune, f"--tune help lacks {what} ({values}): {tune}"
    assert "hard cluster weights" in tune and "weighting" not in tune.replace("weights", ""), tune


@test
def test_readme_eval_sample_matches_the_table():
    """README's sample of `make demo` shows the lines the eval table prints today."""
    readme = read("README.md")
    p = run("eval", "--router", "tests/cli/golden/router.avr", "--data", "tests/data/llm9/data.jsonl.gz",
            "--embeddings", "tests/data/llm9/emb.npy")
    note = next(l for l in p.stdout.splitlines() if l.startswith("  (vs best:"))
    assert note in readme, "README's table lacks: " + note
    for header in ("Single models", "Router", "Headline metrics"):
        line = next(l for l in p.stdout.splitlines() if l.startswith(header) and
                    ("score" in l or "Headline" in l))
        words = " ".join(line.split()[:3])
        assert any(" ".join(r.split()[:3]) == words for r in readme.splitlines()), words


@test
def test_readme_demo_time_is_the_measured_one():
    """The demo's duration is stated once, the same way, where README describes `make demo`."""
    readme = read("README.md")
    assert "about a minute" not in readme
    demo = readme.split("make demo    #")[1].split("make check")[0]
    assert re.search(r"\(\d+ (seconds )?to \d+ minutes on a 2-core machine", " ".join(demo.split())), \
        "README's make demo line does not give the measured duration"


if __name__ == "__main__":
    for fn in TESTS:
        try:
            fn()
            results.append((fn.__name__, None))
            print(f"ok   {fn.__name__}")
        except Exception as e:  # a failed check or an unexpected error both fail the test
            results.append((fn.__name__, e))
            print(f"FAIL {fn.__name__}: {e}")
    failed = sum(1 for _, e in results if e)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
