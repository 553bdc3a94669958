#!/usr/bin/python3
"""Frozen values of the public header's constants: error codes and enum values never change.

  constants.py dump HEADER > tests/abi/constants.txt    (run by `make abi-baseline`)
  constants.py check HEADER BASELINE CC                  (run by `make check-abi-constants`)

`dump` lists every error code of AV_ERRNO_MAP, every enumerator `AV_NAME = value` and every integer
macro (flags, modes; not versions or AV_MAX_* limits) of the header as `NAME VALUE`. `check` compiles a file of `_Static_assert(NAME == VALUE)` for the baseline's
names against the current header, so a renumbered or removed constant fails to compile, and
prints `N passed, N failed`. New constants need no baseline entry until the next `abi-baseline`.
"""
import os
import re
import subprocess
import sys
import tempfile


def constants(header):
    text = open(header, encoding="utf-8").read()
    found = {}
    for name, value in re.findall(r"X\((\w+),\s*(-?\d+),", text):
        found["AV_" + name] = int(value)
    for name, value in re.findall(r"^\s*(AV_[A-Z0-9_]+)\s*=\s*(-?\d+)", text, flags=re.M):
        found[name] = int(value)
    # Integer macros (flags, weighting and normalisation modes). Not frozen: the version numbers,
    # the limits AV_MAX_* (they may be raised, docs/ABI.md), and AV_ERRNO_LAST_ (it moves whenever
    # a code is appended).
    for name, expr in re.findall(r"^#define\s+(AV_[A-Z0-9_]+)\s+([0-9xXa-fA-FuUlL ()<|]+?)\s*(?:/\*.*)?$",
                                 text, flags=re.M):
        if name.startswith(("AV_VERSION_", "AV_MAX_")):
            continue
        py = re.sub(r"(?<=[0-9a-fA-F])[uUlL]+\b", "", expr)
        try:
            found[name] = int(eval(py, {"__builtins__": {}}))  # digits, shifts, ors, parentheses
        except (SyntaxError, NameError, TypeError):
            pass
    found.pop("AV_ERRNO_LAST_", None)
    return found


def main():
    mode, header = sys.argv[1], sys.argv[2]
    if mode == "dump":
        for name, value in sorted(constants(header).items()):
            print(name, value)
        return 0
    baseline, cc = sys.argv[3], sys.argv[4]
    frozen = [line.split() for line in open(baseline, encoding="utf-8") if line.strip()]
    inc = os.path.dirname(os.path.dirname(os.path.abspath(header)))
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "frozen.c")
        with open(src, "w", encoding="utf-8") as f:
            f.write('#include "avengers/avengers.h"\n')
            for name, value in frozen:
                f.write(f'_Static_assert({name} == {value}, "{name} must stay {value}");\n')
        r = subprocess.run([cc, "-std=c11", "-fsyntax-only", "-I", inc, src],
                           capture_output=True, text=True)
    broken = sorted(set(re.findall(r"(AV_\w+) must stay", r.stderr)))
    for name in broken:
        print(f"{name}: renumbered or removed")
    if r.returncode != 0 and not broken:
        print(r.stderr)
        broken = ["(compile error)"]
    failed = len(broken)
    passed = len(frozen) - failed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
