#!/usr/bin/python3
"""`make cross-check`: build and test the library on every platform whose tools this machine has
(docs/PORTABILITY.md), compare what each decides and writes with the native x86-64 build, and end
with `N passed, N failed`. Installs nothing (`make deps-cross` does).

Usage: cross_check.py [platform ...]   platforms: noblas i686 s390x aarch64 windows
Environment: CROSS_DIR (build-cross), CROSS_FULL=1 (every test under the slow emulators too),
MAKE, BUILDDIR (the native build, default build), CROSS_JOBS (make -j of each build, 2)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CROSS = os.environ.get("CROSS_DIR", "build-cross")
NATIVE = os.environ.get("BUILDDIR", "build")
FULL = os.environ.get("CROSS_FULL") == "1"
MAKE = os.environ.get("MAKE", "make")
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
JOBS = os.environ.get("CROSS_JOBS", "2")  # parallel jobs of each platform's build (make -j)
# k-means may round differently on another backend or without BLAS: the inertia of the probe's
# small training run must agree within this relative tolerance (docs/PORTABILITY.md).
INERTIA_RTOL = 1e-4
# Under the slow emulators (qemu-user on an x86-64 host, 10-50x slower) the default run takes the
# tests that cover what differs between platforms and finish in seconds there: sizes, the file's
# bytes and settings, statistics, errors, threads; CROSS_FULL=1 runs every unit
# and integration test (docs/PORTABILITY.md has the full runs' counts).
EMULATED_SUBSET = {"test_error", "test_sizes", "test_settings", "test_feedback", "test_threads",
                   "test_budget"}
# The probe's lines that must be identical on every platform (decisions and bytes written).
EXACT = ("golden.decisions", "golden.f32.decisions", "golden.f16.decisions",
         "golden.int8.decisions", "golden.int8.estimator.decisions", "int8.bytes", "golden.bytes",
         "updated.decisions", "updated.bytes")

# Windows runs under Wine: wine64 on PATH, else Debian's /usr/lib/wine/wine64 (package wine64).
WINE = shutil.which("wine64") or ("/usr/lib/wine/wine64" if os.access("/usr/lib/wine/wine64", os.X_OK)
                                  else "wine64")
WINESERVER = next((w for w in (shutil.which("wineserver"), "/usr/lib/wine/wineserver64",
                                "/usr/lib/wine/wineserver") if w and os.access(w, os.X_OK)), None)
# The command's tests under Wine: each run of avengers.exe starts a Windows process (seconds), so
# the default run takes a subset covering every subcommand's output, errors and inputs;
# CROSS_FULL=1 runs them all (docs/PORTABILITY.md).
WINDOWS_CLI_SUBSET = ["test_info_golden", "test_eval_json_golden", "test_route_output",
                      "test_random_split_train_and_eval_agree", "test_bad_router_checksum",
                      "test_bad_usage", "test_raw_float32_embeddings",
                      "test_input_gzip_members_and_trailing_garbage", "test_messages_escape_paths"]
# Left out of the default Windows run to keep CI short (a minute under Wine; the probe and the DLL
# probe check the golden router's decisions against x86-64 there); CROSS_FULL=1 runs it.
WINDOWS_FULL_ONLY = {"test_decisions"}
# Test programs not built for Windows, and why (mk/windows.mk, WIN_SKIP_TESTS).
WINDOWS_LEFT_OUT = {
    "test_crashsave": "kills forked children with SIGKILL mid-save (no fork or SIGKILL on Windows)",
    "test_closure": "injects write()/fsync() failures with --wrap and makes FIFOs, device nodes "
                    "and symbolic links (POSIX file types and calls)",
}

PLATFORMS = {
    # name: (tools needed, make target, build dir, runner, probe's backend on the host, slow)
    "noblas": ([], "cross-build-noblas", "noblas", [], None, False),
    "i686": (["i686-linux-gnu-gcc", "qemu-i386-static"], "cross-build-i686", "i686",
             ["qemu-i386-static"], "scalar", True),
    "s390x": (["s390x-linux-gnu-gcc", "qemu-s390x-static"], "cross-build-s390x", "s390x",
              ["qemu-s390x-static"], "scalar", True),
    "aarch64": (["aarch64-linux-gnu-gcc", "qemu-aarch64-static"], "cross-build-aarch64", "aarch64",
                ["qemu-aarch64-static"], "scalar", True),
    # natively on this CPU under Wine (same backend as the host); not an emulator
    "windows": (["x86_64-w64-mingw32-gcc", WINE], "cross-build-windows", "windows", [WINE], None,
                False),
}

passed = failed = 0
summary = []


def result(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(f"{'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}", flush=True)


def run(cmd, env=None, timeout=1800):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(cmd, cwd=ROOT, env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout


def native_runs_i686():
    """True when this kernel runs 32-bit x86 binaries itself (then no emulator is needed)."""
    probe = os.path.join(ROOT, CROSS, "i686", "portability", "probe")
    try:
        return subprocess.run([probe], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 2  # usage
    except OSError:
        return False


def parse_probe(text):
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        out[k] = v
    return out


def probe(runner, probe_bin, outdir, env=None):
    rc, text = run(runner + [probe_bin, outdir], env)
    return rc, parse_probe(text), text


def unit_tests(name, bdir, runner, slow):
    bins = []
    for sub in ("unit", "integration"):
        base = os.path.join(CROSS, bdir, "tests", sub)
        for dirpath, _, files in os.walk(os.path.join(ROOT, base)):
            for f in files:
                if f.startswith("test_") and ("." not in f or f.endswith(".exe")):
                    bins.append(os.path.relpath(os.path.join(dirpath, f), ROOT))
    bins.sort()
    if name == "windows":
        for t, why in WINDOWS_LEFT_OUT.items():
            print(f"     windows: {t} not run: {why}")
    left_out = sorted(b for b in bins
                      if slow and not FULL and os.path.basename(b) not in EMULATED_SUBSET
                      or name == "windows" and not FULL
                      and os.path.basename(b)[:-4] in WINDOWS_FULL_ONLY)
    bins = [b for b in bins if b not in left_out]
    env = {"AV_TEST_RUNNER": " ".join(runner)}
    t0 = time.time()
    rc, text = run(["tests/run_unit.sh"] + bins, env, timeout=3600)
    secs = time.time() - t0
    last = [l for l in text.splitlines() if re.match(r"^\d+ passed, \d+ failed", l)]
    p, f = (int(x) for x in re.findall(r"\d+", last[-1])[:2]) if last else (0, 1)
    global passed, failed
    passed += p
    failed += f
    for line in text.splitlines():
        if line.startswith("FAIL") or "CHECK(" in line or "REQUIRE(" in line or "no summary" in line:
            print(f"     {name}: {line}")
    note = (f" ({', '.join(os.path.basename(b) for b in left_out) if len(left_out) < 3 else len(left_out)}"
            f" left out{'' if name == 'windows' else ' under emulation'}; CROSS_FULL=1 runs"
            f" {'it' if len(left_out) == 1 else 'them'})") if left_out else ""
    print(f"{name}: {len(bins)} test programs, {p} passed, {f} failed ({secs:.0f} s){note}",
          flush=True)
    return p, f


def compare(name, got, ref, files_dir, ref_dir, native_probe):
    for key in EXACT:
        result(key in got and got.get(key) == ref.get(key), f"{name}: {key} as on x86-64",
               f"{got.get(key)} vs {ref.get(key)}" if got.get(key) != ref.get(key) else "")
    for f in ("golden", "int8", "updated"):
        a, b = os.path.join(files_dir, f + ".avr"), os.path.join(ref_dir, f + ".avr")
        same = os.path.exists(a) and os.path.exists(b) and open(a, "rb").read() == open(b, "rb").read()
        result(same, f"{name}: {f}.avr written byte for byte as on x86-64")
    try:
        gi, ri = float(got["trained.inertia"]), float(ref["trained.inertia"])
        ok = abs(gi - ri) <= INERTIA_RTOL * abs(ri)
        result(ok, f"{name}: k-means inertia within {INERTIA_RTOL:g} of x86-64", f"{gi} vs {ri}")
    except (KeyError, ValueError):
        result(False, f"{name}: k-means inertia", "missing")
    # the host loads the router trained and written there with the same decisions
    rc, text = run([native_probe, "--decide", os.path.join(files_dir, "trained.avr")])
    host = parse_probe(text).get("decisions")
    result(rc == 0 and host == got.get("trained.decisions"),
           f"{name}: x86-64 loads its trained router with the same decisions",
           f"{host} vs {got.get('trained.decisions')}")


def windows_extras(work, ref, ref_dir, native_probe):
    """The DLL (exports, the probe linked through its import library) and the command's tests."""
    wdir = os.path.join(CROSS, "windows")
    sys.path.insert(0, os.path.join(ROOT, "tests", "abi"))
    from check_symbols import header_functions
    declared = header_functions(os.path.join(ROOT, "include", "avengers", "avengers.h"))
    rc, text = run(["x86_64-w64-mingw32-objdump", "-p", os.path.join(wdir, "lib", "avengers.dll")])
    table = text.split("[Ordinal/Name Pointer] Table", 1)[-1].split("\n\n", 1)[0]
    exports = set(re.findall(r"\]\s+(\w+)", table))
    result(rc == 0 and exports == declared, f"windows: avengers.dll exports the {len(declared)} "
           "AV_API functions and nothing else",
           f"missing {sorted(declared - exports)}, extra {sorted(exports - declared)}")
    d = os.path.join(work, "windows-dll")
    os.makedirs(d)
    rc, got, text = probe([WINE], os.path.join(wdir, "bin", "probe_dll.exe"), d)
    result(rc == 0, "windows: the probe linked with avengers.dll (dllimport) ran",
           "" if rc == 0 else text[-1000:])
    compare("windows (DLL)", got, ref, d, ref_dir, native_probe)
    cli = os.path.join(wdir, "bin", "avengers.exe")
    if not os.path.exists(cli):
        print("     windows: avengers.exe not built (no cJSON source: make deps-cross); "
              "its tests not run")
        return
    t0 = time.time()
    rc, text = run([PYTHON, "tests/cli/test_cli.py"] + ([] if FULL else WINDOWS_CLI_SUBSET),
                   {"AVENGERS": cli, "AVENGERS_RUNNER": WINE}, timeout=1800)
    last = [l for l in text.splitlines() if re.match(r"^\d+ passed, \d+ failed", l)]
    p, f = (int(x) for x in re.findall(r"\d+", last[-1])[:2]) if last else (0, 1)
    global passed, failed
    passed += p
    failed += f
    for line in text.splitlines():
        if line.startswith("FAIL") or line.startswith("skip"):
            print(f"     windows cli: {line[:300]}")
    print(f"windows: avengers.exe, tests/cli/test_cli.py{'' if FULL else ' (subset)'}: {p} passed, "
          f"{f} failed ({time.time() - t0:.0f} s)", flush=True)


def main(names):
    native_probe = os.path.join(ROOT, NATIVE, "portability", "probe")
    work = tempfile.mkdtemp(prefix="av-cross-")
    if "windows" in names:
        # one Wine prefix for every run (its first start takes a while), quiet, without the Mono
        # and Gecko installers' prompts
        os.environ.setdefault("WINEPREFIX", os.path.join(ROOT, CROSS, "windows", "wineprefix"))
        os.environ.setdefault("WINEDEBUG", "-all")
        os.environ.setdefault("WINEDLLOVERRIDES", "mscoree,mshtml=")
        # one Wine server for the whole run instead of one per test program (seconds each)
        if WINESERVER and shutil.which(WINE):
            os.makedirs(os.environ["WINEPREFIX"], exist_ok=True)
            subprocess.run([WINESERVER, "-p"], check=False)
            # start the prefix (created on first use: tens of seconds) and its services now, with
            # no pipe of ours: they live as long as the server and would hold a test's output open
            t0 = time.time()
            subprocess.run([WINE, "wineboot", "--init"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            print(f"(Wine prefix {os.environ['WINEPREFIX']} ready in {time.time() - t0:.0f} s)")
    refs = {}
    try:
        for name in names:
            if name not in PLATFORMS:
                print(f"{name}: not a platform this check knows (skipped)")
                summary.append(f"{name}: unknown")
                continue
            tools, target, bdir, runner, backend, slow = PLATFORMS[name]
            missing = [t for t in tools if not shutil.which(t)]
            if missing:
                print(f"==== {name}: skipped, missing {' '.join(missing)} (make deps-cross)")
                summary.append(f"{name}: skipped (missing {' '.join(missing)})")
                continue
            print(f"==== {name}", flush=True)
            t0 = time.time()
            rc, text = run([MAKE, "--no-print-directory", "-s", f"-j{JOBS}", target])
            result(rc == 0, f"{name}: build", text[-2000:] if rc else f"{time.time() - t0:.0f} s")
            if rc:
                summary.append(f"{name}: build failed")
                continue
            if name == "i686" and native_runs_i686():
                runner = []
            p0, f0 = passed, failed
            unit_tests(name, bdir, runner, slow)
            key = backend or "default"
            if key not in refs:
                d = os.path.join(work, "native-" + key)
                os.makedirs(d)
                rc, ref, text = probe([], native_probe, d, {"AV_SIMD": backend} if backend else {})
                if rc:
                    print(text)
                refs[key] = (ref, d)
            ref, ref_dir = refs[key]
            d = os.path.join(work, name)
            os.makedirs(d)
            t0 = time.time()
            exe = ".exe" if name == "windows" else ""
            rc, got, text = probe(runner, os.path.join(CROSS, bdir, "portability", "probe" + exe), d)
            result(rc == 0, f"{name}: probe ran (backend {got.get('backend')}, "
                            f"{time.time() - t0:.1f} s)", "" if rc == 0 else text[-1000:])
            compare(name, got, ref, d, ref_dir, native_probe)
            if name == "windows":
                windows_extras(work, ref, ref_dir, native_probe)
            summary.append(f"{name}: {passed - p0} passed, {failed - f0} failed")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if "windows" in names and WINESERVER and shutil.which(WINE):
            subprocess.run([WINESERVER, "-k"], check=False)
    print("==== cross-check summary")
    for s in summary:
        print("  " + s)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(PLATFORMS)))
