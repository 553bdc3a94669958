#!/usr/bin/python3
"""What the public header promises never to change: constant values and function prototypes.

  frozen.py dump HEADER DIR        write DIR/constants.txt and DIR/prototypes.txt (make abi-baseline)
  frozen.py check HEADER DIR CC    check the header against them (make check-abi-frozen)

The experimental block (`#ifdef AV_STATIC_LINKING_ONLY`) is left out of both.
Constants: every error code of AV_ERRNO_MAP, every enumerator `AV_NAME = value` and every integer macro
(flags, modes; not versions or AV_MAX_* limits), as `NAME VALUE`; checked with
`_Static_assert(NAME == VALUE)`. Prototypes: every `AV_API` declaration, one per line; checked by
compiling them again after the current header, where any change of a parameter or return type is a
"conflicting types" error (parameter names may change). Both checks are one compilation; a removed
function or constant fails too. Prints `N passed, N failed`; new functions and constants need no
baseline entry until the next `abi-baseline`. abidiff covers struct layouts, but the Debian
libabigail (2.2) loses the link between some functions and their symbols (functions that other
translation units call), so it cannot see their signatures: this check can.
"""
import os
import re
import subprocess
import sys
import tempfile


EXPERIMENTAL = re.compile(r"^#ifdef AV_STATIC_LINKING_ONLY\b.*?^#endif /\* AV_STATIC_LINKING_ONLY \*/",
                          flags=re.M | re.S)


def stable_text(header):
    """The header without its experimental block (AV_STATIC_LINKING_ONLY): not frozen."""
    return EXPERIMENTAL.sub(" ", open(header, encoding="utf-8").read())


def experimental_names(header):
    """Functions and types declared in the experimental block, for abi_check.py."""
    text = "\n".join(EXPERIMENTAL.findall(open(header, encoding="utf-8").read()))
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    funcs = set(re.findall(r"\bAV_API\b[^;{(]*?\(?\s*(av_\w+)\s*\)?\s*\(", text))
    types = set(re.findall(r"\btypedef\s+(?:struct|enum)\s+(\w+)", text))
    return funcs, types


def constants(header):
    text = stable_text(header)
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


def prototypes(header):
    """Every AV_API declaration, whitespace collapsed, without its trailing ';'."""
    text = stable_text(header)
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"^\s*#.*?(?<!\\)$", " ", text, flags=re.M | re.S)
    protos = {}
    for m in re.finditer(r"\bAV_API\b[^;{]*;", text):
        decl = " ".join(m.group(0).rstrip(";").split())
        # the function's name: the first identifier followed by '(' or, for a name written in
        # parentheses (`void (av_x_init)(...)`, beside a macro of that name), by ')('
        name = [n for n in re.findall(r"([A-Za-z_]\w*)\s*\)?\s*\(", decl) if n != "AV_API"
                and n not in ("void", "int", "const", "char", "size_t", "double", "unsigned")]
        if name:
            protos[name[0]] = decl
    return protos


def main():
    mode, header, base = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "dump":
        with open(os.path.join(base, "constants.txt"), "w", encoding="utf-8") as f:
            for name, value in sorted(constants(header).items()):
                f.write(f"{name} {value}\n")
        with open(os.path.join(base, "prototypes.txt"), "w", encoding="utf-8") as f:
            for name, decl in sorted(prototypes(header).items()):
                f.write(decl + ";\n")
        return 0
    cc = sys.argv[4]
    frozen = [line.split() for line in open(os.path.join(base, "constants.txt"), encoding="utf-8")
              if line.strip()]
    protos = [line.strip() for line in open(os.path.join(base, "prototypes.txt"), encoding="utf-8")
              if line.strip()]
    inc = os.path.dirname(os.path.dirname(os.path.abspath(header)))
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "frozen.c")
        with open(src, "w", encoding="utf-8") as f:
            f.write('#include "avengers/avengers.h"\n')
            for name, value in frozen:
                f.write(f'_Static_assert({name} == {value}, "{name} must stay {value}");\n')
            for decl in protos:
                f.write(decl + "\n")
        r = subprocess.run([cc, "-std=c11", "-fsyntax-only", "-I", inc, src],
                           capture_output=True, text=True)
    broken = sorted(set(re.findall(r"(AV_\w+) must stay", r.stderr)))
    for name in broken:
        print(f"{name}: renumbered or removed")
    changed = sorted(set(re.findall(r"conflicting types for .(av_\w+)", r.stderr)))
    for name in changed:
        print(f"{name}: prototype changed")
    failed = len(broken) + len(changed)
    if r.returncode != 0 and failed == 0:
        print(r.stderr)
        failed = 1
    passed = len(frozen) + len(protos) - failed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
