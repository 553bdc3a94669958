"""Cross-language identity: a router trained on the llm9 fixture routes every fixture row through
C (examples/c/route.c: av_route per row), C++ (examples/cpp/route.cpp: the wrapper's
route_batch), Rust (examples/rust: the safe crate's route_batch, when cargo is present) and Python
(route and route_batch); every language must print exactly the same model for every row."""
import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import DATA, ROOT, fit_fixture

ALPHAS = ["0", "0.35", "0.7", "1"]
# The library under test and cargo's target directory: make check-python passes its LIBOUTDIR and
# BUILDDIR, so that a build in another directory tests that library (and clobbers no other build).
LIB = os.environ.get("AVENGERS_LIB_DIR") or os.path.join(ROOT, "lib")
CARGO_TARGET = os.environ.get("AVENGERS_CARGO_TARGET_DIR") or os.path.join(ROOT, "build", "rust")


def _build(cmd):
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, "build failed: %s\n%s" % (" ".join(cmd), p.stderr[-3000:])


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    out = tmp_path_factory.mktemp("xlang")
    link = ["-Iinclude", "-L" + LIB, "-lavengers", "-Wl,-rpath," + LIB]
    cc, cxx = os.environ.get("CC", "cc"), os.environ.get("CXX", "c++")
    _build([cc, "-std=c11", "-O2", "-Wall", "-Werror", "examples/c/route.c", "-o", str(out / "c")] + link)
    _build([cxx, "-std=c++17", "-O2", "-Wall", "-Werror", "examples/cpp/route.cpp", "-o",
            str(out / "cpp")] + link)
    progs = {"c": [str(out / "c")], "cpp": [str(out / "cpp")]}
    cargo = shutil.which(os.environ.get("CARGO", "cargo"))
    if cargo:
        env = dict(os.environ, CARGO_TARGET_DIR=CARGO_TARGET, AVENGERS_LIB_DIR=LIB)
        p = subprocess.run([cargo, "build", "--offline", "-q", "-p", "avengers-route-example"],
                           cwd=os.path.join(ROOT, "bindings", "rust"), env=env,
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr[-3000:]
        progs["rust"] = [os.path.join(CARGO_TARGET, "debug", "route")]
    return progs


@pytest.fixture(scope="module")
def router_file(avengers, fx, tmp_path_factory):
    r = fit_fixture(avengers, fx, k=30, n_init=2, seed=123)
    path = tmp_path_factory.mktemp("xlang_router") / "llm9.avr"
    r.save(path)
    yield r, str(path)
    r.close()


@pytest.mark.parametrize("alpha", ALPHAS)
def test_all_languages_decide_identically(programs, router_file, fx, alpha):
    r, path = router_file
    batch = r.route_batch(fx.emb, float(alpha))
    single = np.array([r.route(e, float(alpha)) for e in fx.emb])
    assert (batch == single).all()
    want = "".join("%d\t%s\n" % (i, r.models[m]) for i, m in enumerate(batch))
    assert len(set(batch)) > 1 or alpha in ("0", "1"), "a degenerate router proves little"
    for lang, cmd in programs.items():
        p = subprocess.run(cmd + [path, os.path.join(DATA, "emb.npy"), alpha], capture_output=True,
                           text=True)
        assert p.returncode == 0, "%s: %s" % (lang, p.stderr)
        got = p.stdout
        assert got.count("\n") == len(fx.emb), lang
        diff = [(a, b) for a, b in zip(got.splitlines(), want.splitlines()) if a != b]
        assert not diff, "%s differs from Python on %d rows, e.g. %s" % (lang, len(diff), diff[:3])


def test_rust_present_or_reported(programs):
    if "rust" not in programs:
        pytest.skip("cargo not found: Rust not compared")
    assert os.path.exists(programs["rust"][0])
