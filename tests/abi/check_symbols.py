#!/usr/bin/python3
"""The shared library exports exactly the functions the public header declares with AV_API.

Usage: check_symbols.py HEADER LIBRARY
Reads the declarations `AV_API <type> av_name(` from the header (comments removed, declarations may
span lines) and the defined dynamic symbols of the library (`nm -D --defined-only`), and reports
every function declared but not exported and every symbol exported but not declared. Prints
`N passed, N failed` (one check per name) and exits non-zero on any mismatch.
"""
import re
import subprocess
import sys


def header_functions(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # block comments
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#.*?(?<!\\)$", " ", text, flags=re.M | re.S)  # preprocessor lines
    names = set()
    for m in re.finditer(r"\bAV_API\b([^;{]*?)\(", text):
        decl = m.group(1)
        # `AV_API void (av_x_init)(...)`: a name in parentheses, so that a function-like macro of
        # the same name (the header's av_*_init) does not expand there
        paren = re.match(r"\s*([A-Za-z_]\w*)\s*\)\s*\(", text[m.end():])
        if paren:
            names.add(paren.group(1))
            continue
        # the declarator name is the last identifier before '(' (function pointers are not used)
        ids = re.findall(r"[A-Za-z_]\w*", decl)
        if ids:
            names.add(ids[-1])
    return names


def exported(path):
    out = subprocess.run(["nm", "-D", "--defined-only", path], check=True, capture_output=True,
                         text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            name = parts[2].split("@")[0]
            if parts[1] not in ("A",):  # version-node absolute symbols (AVENGERS_0) are not code
                names.add(name)
    return names


def main():
    header, lib = sys.argv[1], sys.argv[2]
    declared, symbols = header_functions(header), exported(lib)
    passed = failed = 0
    for name in sorted(declared | symbols):
        if name in declared and name in symbols:
            passed += 1
        elif name in declared:
            failed += 1
            print(f"declared AV_API but not exported: {name}")
        else:
            failed += 1
            print(f"exported but not declared AV_API in {header}: {name}")
    bad_prefix = sorted(n for n in declared if not n.startswith("av_"))
    for name in bad_prefix:
        failed += 1
        print(f"public function without the av_ prefix: {name}")
    print(f"{len(declared)} functions declared, {len(symbols)} exported")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
