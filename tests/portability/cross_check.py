#!/usr/bin/python3
"""`make cross-check`: build and test the library on every platform whose tools this machine has
(docs/PORTABILITY.md), compare what each decides and writes with the native x86-64 build, and end
with `N passed, N failed`. Installs nothing (`make deps-cross` does).

Usage: cross_check.py [platform ...]   platforms: noblas i686 s390x aarch64 wasm wasm-scalar windows
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
    # WebAssembly under Node.js: SIMD128 kernels (forced to scalar too, AV_SIMD=scalar), and a
    # build without -msimd128 (the library and the probe only)
    "wasm": (["emcc", "node"], "cross-build-wasm", "wasm", ["node"], "scalar", False),
    "wasm-scalar": (["emcc", "node"], "cross-build-wasm-scalar", "wasm-scalar", ["node"], "scalar",
                    False),
    # natively on this CPU under Wine (same backend as the host); not an emulator
    "windows": (["x86_64-w64-mingw32-gcc", WINE], "cross-build-windows", "windows", [WINE], None,
                False),
}

# What a platform cannot run, and why (printed): whole test programs, and single tests (passed to
# the harness in AV_TEST_SKIP).
WASM_NO_PROGRAMS = {
    "test_threads": "threads (Emscripten without -pthread: pthread_create fails)",
    "test_concurrency": "threads (Emscripten without -pthread: pthread_create fails)",
    "test_decisions": "fork (one child per backend)",
    "test_batch": "--wrap=malloc (Emscripten's JavaScript runtime then finds no malloc)",
    "test_format": "--wrap=malloc (Emscripten's JavaScript runtime then finds no malloc)",
    "test_load": "--wrap=malloc (Emscripten's JavaScript runtime then finds no malloc)",
}
WASM_NO_TESTS = {
    "test_env_override": "popen (a child per backend)",
    "test_every_backend": "system() (a child per backend)",
    "test_sigkill_during_save": "fork and SIGKILL",
    "test_add_model_live": "threads",
    "test_save_during_add_model": "threads",
    "test_eval_and_budgets_during_add_model": "threads",
    "test_readers_during_add_model": "threads",
    "test_save_targets": "FIFOs and device nodes (Emscripten's NODERAWFS emulates mkfifo and mknod "
                         "without making them on the host)",
}
SKIPS = {"wasm": (WASM_NO_PROGRAMS, WASM_NO_TESTS), "windows": (WINDOWS_LEFT_OUT, {})}
# Platforms whose unit and integration tests are not built (the probe is).
PROBE_ONLY = {"wasm-scalar"}

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


def summary_counts(text):
    """The last `N passed, N failed` line of a test program's output; none counts as a failure."""
    last = [l for l in text.splitlines() if re.match(r"^\d+ passed, \d+ failed", l)]
    return tuple(int(x) for x in re.findall(r"\d+", last[-1])[:2]) if last else (0, 1)


def unit_tests(name, bdir, runner, slow):
    if name in PROBE_ONLY:
        return 0, 0
    no_programs, no_tests = SKIPS.get(name, ({}, {}))
    for what, why in list(no_programs.items()) + list(no_tests.items()):
        print(f"     {name}: {what} skipped: {why}")
    bins = []
    for sub in ("unit", "integration"):
        base = os.path.join(CROSS, bdir, "tests", sub)
        for dirpath, _, files in os.walk(os.path.join(ROOT, base)):
            for f in files:
                if f.startswith("test_") and ("." not in f or f.endswith(".exe")):
                    bins.append(os.path.relpath(os.path.join(dirpath, f), ROOT))
    bins.sort()
    left_out = sorted(b for b in bins
                      if slow and not FULL and os.path.basename(b) not in EMULATED_SUBSET
                      or name == "windows" and not FULL
                      and os.path.basename(b)[:-4] in WINDOWS_FULL_ONLY)
    bins = [b for b in bins if b not in left_out and os.path.basename(b) not in no_programs]
    env = {"AV_TEST_RUNNER": " ".join(runner), "AV_TEST_SKIP": " ".join(no_tests)}
    t0 = time.time()
    rc, text = run(["tests/run_unit.sh"] + bins, env, timeout=3600)
    secs = time.time() - t0
    p, f = summary_counts(text)
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


SPEED_RUNS = 3  # `probe --speed` runs per measurement; the fastest counts (the machine is shared)
speeds = []      # (platform, backend, microseconds per av_route)


def speed(name, runner, probe_bin, env=None):
    """Microseconds per av_route of the golden router (`probe --speed`): information, not a test."""
    best, backend = None, None
    for _ in range(SPEED_RUNS):
        rc, text = run(runner + [probe_bin, "--speed"], env)
        got = parse_probe(text)
        m = re.match(r"([\d.]+)", got.get("route.us", ""))
        if rc or not m:
            print(f"info {name}: probe --speed failed: {text[-300:]}")
            return
        backend = got.get("backend")
        best = float(m.group(1)) if best is None else min(best, float(m.group(1)))
    speeds.append((name, backend, best))


def print_speeds():
    ref = [us for n, b, us in speeds if n == "x86-64" and b == "scalar"]
    if not ref:
        return
    print(f"==== routing speed (information, not a test): microseconds per av_route of the golden "
          f"router, fastest of {SPEED_RUNS} runs, relative to x86-64's scalar backend in this run")
    for n, b, us in speeds:
        print(f"info speed {n:<24} {b:<14} {us:10.2f} us  {us / ref[0]:7.2f} x x86-64 scalar")


def js_binding_tests():
    """The JavaScript binding's tests (bindings/js/test.js) against the native `avengers`."""
    global passed, failed
    cli = os.path.join(ROOT, NATIVE, "bin", "avengers")
    t0 = time.time()
    rc, text = run(["node", "bindings/js/test.js"], {"AV_NATIVE_CLI": cli}, timeout=600)
    p, f = summary_counts(text)
    passed += p
    failed += f
    for line in text.splitlines():
        if line.startswith("FAIL"):
            print(f"     wasm (JavaScript): {line}")
    print(f"wasm: JavaScript binding under Node.js, {p} passed, {f} failed ({time.time() - t0:.0f} s)",
          flush=True)


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
    p, f = summary_counts(text)
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
    speed("x86-64", [], native_probe, {"AV_SIMD": "scalar"})
    speed("x86-64", [], native_probe)
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
            t0 = t_platform = time.time()
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
            pbin = os.path.join(CROSS, bdir, "portability", "probe" + exe)
            speed(name, runner, pbin)
            if name == "wasm":  # the same module forced to the scalar kernels, and the binding
                d = os.path.join(work, name + "-forced-scalar")
                os.makedirs(d)
                rc, got, text = probe(runner, pbin, d, {"AV_SIMD": "scalar"})
                result(rc == 0 and got.get("backend") == "scalar",
                       f"{name}: probe ran with AV_SIMD=scalar (backend {got.get('backend')})",
                       "" if rc == 0 else text[-1000:])
                compare(name + " (AV_SIMD=scalar)", got, ref, d, ref_dir, native_probe)
                speed(name, runner, pbin, {"AV_SIMD": "scalar"})
                js_binding_tests()
            if name == "windows":
                windows_extras(work, ref, ref_dir, native_probe)
            print(f"{name}: {time.time() - t_platform:.0f} s in all", flush=True)
            summary.append(f"{name}: {passed - p0} passed, {failed - f0} failed")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if "windows" in names and WINESERVER and shutil.which(WINE):
            subprocess.run([WINESERVER, "-k"], check=False)
    print_speeds()
    print("==== cross-check summary")
    for s in summary:
        print("  " + s)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(PLATFORMS)))
