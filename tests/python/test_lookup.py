"""Where the binding finds libavengers: AVENGERS_LIB (a file or a directory), inside the package,
the directory `make install` recorded, the checkout's build, the system loader, pkg-config; and
the message when none of them has it. Each case imports a copy of the package in a child process
whose environment holds only what the case is about."""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PKG = os.path.join(ROOT, "bindings", "python", "avengers")
LIBDIR = os.environ.get("AVENGERS_LIB_DIR") or os.path.join(ROOT, "lib")
LIB = os.path.realpath(os.path.join(LIBDIR, "libavengers.so"))
SONAME = "libavengers.so.1"

PROBE = "import avengers, os; print(os.path.realpath(avengers.library_path()))"


def _system_has_library():
    env = {"PATH": os.environ.get("PATH", "")}
    p = subprocess.run([sys.executable, "-c", "import ctypes; ctypes.CDLL(%r)" % SONAME],
                       env=env, capture_output=True)
    return p.returncode == 0


def _copy_package(tmp_path):
    """The package alone, outside the checkout (so the checkout's lib/ is not beside it)."""
    site = tmp_path / "site"
    shutil.copytree(PKG, site / "avengers", ignore=shutil.ignore_patterns("__pycache__"))
    return site


def _run(site, cwd, **env_extra):
    # A clean environment: no AVENGERS_LIB, no LD_LIBRARY_PATH, pkg-config sees only what the
    # case gives it (PKG_CONFIG_LIBDIR replaces the default search path).
    empty = cwd / "no-pc"
    empty.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(site),
           "PKG_CONFIG_LIBDIR": str(empty), "PKG_CONFIG_PATH": ""}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=cwd, capture_output=True,
                          text=True)


def test_avengers_lib_may_be_a_directory(tmp_path):
    site = _copy_package(tmp_path)
    p = _run(site, tmp_path, AVENGERS_LIB=LIBDIR)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == LIB


def test_avengers_lib_that_does_not_load_is_final(tmp_path):
    site = _copy_package(tmp_path)
    (site / "avengers" / "_installed.py").write_text("LIBDIR = %r\n" % LIBDIR)
    p = _run(site, tmp_path, AVENGERS_LIB=str(tmp_path / "nowhere"))
    assert p.returncode != 0
    assert "nowhere" in p.stderr and "AVENGERS_LIB" in p.stderr
    assert LIBDIR not in p.stderr  # the recorded directory was not tried after it


def test_library_inside_the_package(tmp_path):
    site = _copy_package(tmp_path)
    shutil.copy(LIB, site / "avengers" / SONAME)
    p = _run(site, tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(site / "avengers" / SONAME)


def test_directory_recorded_at_install(tmp_path):
    site = _copy_package(tmp_path)
    (site / "avengers" / "_installed.py").write_text("LIBDIR = %r\n" % LIBDIR)
    p = _run(site, tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == LIB


def test_system_loader(tmp_path):
    site = _copy_package(tmp_path)
    p = _run(site, tmp_path, LD_LIBRARY_PATH=LIBDIR)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == LIB


def test_pkg_config(tmp_path):
    if not shutil.which("pkg-config"):
        pytest.skip("pkg-config not found")
    if _system_has_library():
        pytest.skip("the system loader already finds libavengers.so.1")
    site = _copy_package(tmp_path)
    pc = tmp_path / "pc"
    pc.mkdir()
    (pc / "avengers.pc").write_text("prefix=/nonexistent\nlibdir=%s\nincludedir=${prefix}/include\n"
                                    "Name: avengers\nDescription: test\nVersion: 1.0.0\n"
                                    "Libs: -L${libdir} -lavengers\n" % LIBDIR)
    p = _run(site, tmp_path, PKG_CONFIG_LIBDIR=str(pc))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == LIB


def test_nothing_found_says_what_to_do(tmp_path):
    if _system_has_library():
        pytest.skip("the system loader already finds libavengers.so.1")
    site = _copy_package(tmp_path)
    p = _run(site, tmp_path)
    assert p.returncode != 0
    last = p.stderr.strip().splitlines()
    msg = p.stderr
    assert "cannot load libavengers" in msg
    assert "`make`" in msg and "AVENGERS_LIB" in msg
    assert "the system loader" in msg
    assert last  # the traceback ends with the places tried
