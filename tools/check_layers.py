#!/usr/bin/env python3
"""The layering check: every library source lives in a layer folder under src/, and includes and
calls only its own layer and the layers below it (docs/ARCHITECTURE.md).

Two kinds of dependency are checked, so that neither can go upward unnoticed:
  - includes: every `#include "..."` of a file in src/<layer>/ names a header of an allowed layer
    (or the public header); internal.h (the tests' umbrella) is never included by the library;
  - calls: every library symbol an object file in <objdir>/<layer>/ uses (`nm -u`) is defined in an
    object of an allowed layer (`nm --defined-only`).

Usage: check_layers.py SRC_DIR OBJ_DIR   (prints one line per file, ends with `N passed, N failed`)
       check_layers.py --self-test       (builds a tiny tree with an upward include and an upward
                                          call and checks that both are reported)
"""
import os
import re
import subprocess
import sys
import tempfile

# Each layer and the layers it may use (directly or not). index and stats are siblings, as are io
# and eval: neither of a pair may use the other.
BELOW = {
    "base": [],
    "kernels": ["base"],
    "index": ["kernels"],
    "stats": ["base"],
    "rule": ["index", "stats"],
    "router": ["rule"],
    "io": ["router"],
    "eval": ["router"],
    "train": ["eval"],
}


def allowed(layer):
    """The layer itself and everything below it."""
    out, todo = {layer}, list(BELOW[layer])
    while todo:
        d = todo.pop()
        if d not in out:
            out.add(d)
            todo.extend(BELOW[d])
    return out


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
PUBLIC = "avengers/"


def check_includes(src):
    """{file: [problems]} for every file under src (layer folders and stray files)."""
    results = {}
    for dirpath, _, files in os.walk(src):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src)
            parts = rel.split(os.sep)
            problems = []
            if len(parts) == 1:
                if name not in ("internal.h", "avengers.map"):
                    problems.append("not in a layer folder")
                results[rel] = problems
                continue
            layer = parts[0]
            if layer not in BELOW:
                results[rel] = ["folder %s is not a layer (%s)" % (layer, ", ".join(BELOW))]
                continue
            if not name.endswith((".c", ".h")):
                continue
            with open(path, encoding="utf-8") as f:
                text = f.read()
            ok = allowed(layer)
            for inc in INCLUDE.findall(text):
                if inc.startswith(PUBLIC):
                    continue
                target = inc.split("/")[0] if "/" in inc else None
                if target is None:
                    problems.append('includes "%s" (not a layer header)' % inc)
                elif target not in BELOW:
                    problems.append('includes "%s" (unknown layer)' % inc)
                elif target not in ok:
                    problems.append('includes "%s": %s is not below %s' % (inc, target, layer))
            results[rel] = problems
    return results


def nm(args, path):
    out = subprocess.run(["nm"] + args + [path], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


LIBSYM = re.compile(r"^av_")


def check_calls(obj):
    """{object: [problems]} for every object under obj/<layer>/."""
    defined, used = {}, {}
    for dirpath, _, files in os.walk(obj):
        for name in sorted(files):
            if not name.endswith(".o"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, obj)
            layer = rel.split(os.sep)[0]
            if layer not in BELOW:
                continue
            for line in nm(["--defined-only"], path):
                f = line.split()
                if len(f) == 3 and LIBSYM.match(f[2]) and f[1] in "TDBRtdbr":
                    defined.setdefault(f[2], layer)
            used[rel] = [l.split()[-1] for l in nm(["-u"], path) if LIBSYM.match(l.split()[-1])]
    results = {}
    for rel, syms in sorted(used.items()):
        layer = rel.split(os.sep)[0]
        ok = allowed(layer)
        results[rel] = ["calls %s (defined in %s, not below %s)" % (s, defined[s], layer)
                        for s in syms if s in defined and defined[s] not in ok]
    return results


def report(results, kind):
    passed = failed = 0
    for rel, problems in sorted(results.items()):
        if problems:
            failed += 1
            for p in problems:
                print("FAIL %s %s: %s" % (kind, rel, p))
        else:
            passed += 1
    return passed, failed


def run(src, obj):
    p1, f1 = report(check_includes(src), "include")
    p2, f2 = report(check_calls(obj), "call")
    print("layers: %d files checked for includes, %d objects for calls" % (p1 + f1, p2 + f2))
    return p1 + p2, f1 + f2


def self_test():
    """A tree where stats includes the router's header and an index object calls a rule function:
    both must be reported, and a clean tree must pass."""
    passed = failed = 0
    with tempfile.TemporaryDirectory() as d:
        src, obj = os.path.join(d, "src"), os.path.join(d, "obj")
        for layer in ("stats", "router", "index", "rule"):
            os.makedirs(os.path.join(src, layer))
            os.makedirs(os.path.join(obj, layer))
        files = {
            "router/router.h": "int av__up(void);\n",
            "stats/table.c": '#include "router/router.h"\nint av__s(void) { return 1; }\n',
            "rule/rule.c": "int av__rule_thing(void) { return 2; }\n",
            "index/nearest.c": "int av__rule_thing(void);\nint av__n(void) { return av__rule_thing(); }\n",
        }
        for rel, text in files.items():
            with open(os.path.join(src, rel), "w") as f:
                f.write(text)
        for rel in ("rule/rule.c", "index/nearest.c"):
            subprocess.run(["cc", "-c", os.path.join(src, rel), "-o",
                            os.path.join(obj, rel[:-2] + ".o")], check=True)
        inc = check_includes(src)
        calls = check_calls(obj)
        for name, cond in (
            ("an upward include is reported", any("router" in p for p in inc["stats/table.c"])),
            ("an upward call is reported",
             any("av__rule_thing" in p for p in calls[os.path.join("index", "nearest.o")])),
            ("a downward call is not", calls[os.path.join("rule", "rule.o")] == []),
        ):
            print("%s self-test: %s" % ("ok  " if cond else "FAIL", name))
            passed, failed = passed + cond, failed + (not cond)
    return passed, failed


def main():
    if sys.argv[1:] == ["--self-test"]:
        p, f = self_test()
    elif len(sys.argv) == 3:
        p, f = run(sys.argv[1], sys.argv[2])
        sp, sf = self_test()
        p, f = p + sp, f + sf
    else:
        sys.exit(__doc__)
    print("%d passed, %d failed" % (p, f))
    sys.exit(1 if f else 0)


if __name__ == "__main__":
    main()
