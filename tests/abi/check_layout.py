#!/usr/bin/python3
"""Appended struct members must lie past every released layout (docs/ABI.md, rule 3).

Usage: check_layout.py HEADER OLD_HEADERS_DIR CC

A library checks the bytes of a caller's struct past its own sizeof (a non-zero byte there is an
option it does not know: AV_EINVAL). The bytes *inside* its sizeof that are padding it never
reads. So a member appended in a later version must start at or past the sizeof of the struct in
every released header from 1.0 on (the first with the sized entry points): a member placed in an
older layout's tail padding would be silently ignored by that older library when a program built
against the newer header sets it. And the bytes past an older sizeof must all be members: the
older library refuses any non-zero byte there, and a compiler need not zero padding (an
initialiser or an assignment may leave stack garbage in it), so padding there would make a
newer program's defaults fail on an older library at random. The one exception is a member named `reserved*`, which fills
such padding explicitly and must stay 0 (the library refuses any other value). Also checks that members present in both keep their offsets.

The members of every av_* struct are read from the header with the bindings' parser
(tools/gen_bindings.py, pycparser); offsets and sizes come from the compiler (offsetof, sizeof
printed by a small program built against each header). Prints `N passed, N failed`.
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import gen_bindings  # noqa: E402


def members(header):
    gen_bindings.HEADER = header
    return [(name, [f for f, _ in fields]) for name, fields in gen_bindings._parse().structs]


def layout(header, cc, structs):
    """{struct: (sizeof, {member: offset})} as the compiler lays them out."""
    lines = ["#define AV_STATIC_LINKING_ONLY", '#include "avengers/avengers.h"',
             "#include <stddef.h>", "#include <stdio.h>", "int main(void) {"]
    for s, fields in structs:
        lines.append('printf("%s sizeof %%zu\\n", sizeof(%s));' % (s, s))
        for f in fields:
            lines.append('printf("%s %s %%zu %%zu\\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));'
                         % (s, f, s, f, s, f))
    lines.append("return 0; }")
    inc = os.path.dirname(os.path.dirname(header))
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "l.c"), os.path.join(d, "l")
        open(src, "w").write("\n".join(lines) + "\n")
        subprocess.run([cc, "-std=c11", "-I", inc, "-o", exe, src], check=True)
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    res = {}
    for line in out.splitlines():
        s, what, v = line.split()[:3]
        size, offs, sizes = res.setdefault(s, [0, {}, {}])
        if what == "sizeof":
            res[s][0] = int(v)
        else:
            offs[what] = int(v)
            sizes[what] = int(line.split()[3])
    return res


def holes(offs, sizes, start, end):
    """The byte ranges of [start, end) that no member covers (padding)."""
    covered = bytearray(end - start)
    for f, o in offs.items():
        for b in range(max(o, start), min(o + sizes[f], end)):
            covered[b - start] = 1
    out, b = [], 0
    while b < len(covered):
        if covered[b]:
            b += 1
            continue
        e = b
        while e < len(covered) and not covered[e]:
            e += 1
        out.append((start + b, start + e))
        b = e
    return out


def main(header, old_dir, cc):
    passed = failed = 0
    cur = layout(header, cc, members(header))
    for rel in sorted(os.listdir(old_dir)):
        major = int(rel.split(".")[0])
        if major < 1:  # 0.x libraries have no sized entry points: nothing to compare with
            continue
        old_h = os.path.join(old_dir, rel, "avengers", "avengers.h")
        old = layout(old_h, cc, members(old_h))
        for s, (size, offs, _) in sorted(old.items()):
            if s not in cur:
                print("FAIL %s: %s of %s is gone" % (rel, s, rel))
                failed += 1
                continue
            bad = []
            for f, o in cur[s][1].items():
                if f in offs and offs[f] != o:
                    bad.append("%s moved from offset %d to %d" % (f, offs[f], o))
                elif f not in offs and o < size and not f.startswith("reserved"):
                    bad.append("%s (appended) starts at offset %d, inside the %d bytes that %s "
                               "knows (its tail padding, which that library never reads)"
                               % (f, o, size, rel))
            gaps = holes(cur[s][1], cur[s][2], size, cur[s][0])
            if gaps:
                bad.append("padding at bytes %s past the %d bytes that %s knows: a compiler need not "
                           "zero it, and %s refuses a non-zero byte there (make it a reserved "
                           "member)" % (", ".join("%d..%d" % (a, b - 1) for a, b in gaps), size,
                                        rel, rel))
            if bad:
                failed += 1
                print("FAIL %s against %s: %s" % (s, rel, "; ".join(bad)))
            else:
                passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    sys.exit(main(*sys.argv[1:]))
