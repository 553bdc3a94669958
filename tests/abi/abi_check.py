#!/usr/bin/python3
"""Compare a built libavengers with the committed ABI baseline (docs/ABI.md).

Usage: abi_check.py HEADER BASELINE.abi CURRENT.abi

Both dumps are written by abidw (abigail-tools) with --headers-dir include/avengers
--load-all-types, so they hold every public type whether or not a function reaches it.

1. Interfaces (abidiff): any removed function, variable or ELF symbol fails. abidiff's full
   report is printed.
2. Public types (read from the two dumps here): every struct and enum declared in the public
   header is compared member by member, with the type of each member resolved to its name.
   - A struct whose first member is `uint32_t struct_size` (options, results, replays) may grow
     at the end: every baseline member must still be there, in the same place, with the same
     type; new members may follow the last one. (The library reads no more of a caller's struct
     than struct_size says.)
   - Any other struct must keep exactly its members, offsets, types and size.
   - An enum keeps every enumerator's value; new enumerators may be added.
   This is not left to abidiff: the Debian libabigail (2.2) loses the link between some functions
   and their symbols (functions that other translation units call) and so misses the types they
   reach, and its suppressions (has_data_member_inserted_at = end, ..._between) also hide a
   changed member type, so they cannot express "append only".
3. Function prototypes and constant values: tests/abi/frozen.py (make check-abi-frozen).
The experimental block of the header (AV_STATIC_LINKING_ONLY) is left out of every comparison.
"""
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from frozen import experimental_names  # noqa: E402

PUBLIC = "include/avengers/"


class Dump:
    def __init__(self, path):
        root = ET.parse(path).getroot()
        self.by_id = {}
        for el in root.iter():
            if el.get("id"):
                self.by_id.setdefault(el.get("id"), el)
        self.structs, self.enums = {}, {}
        for el in root.iter():
            if PUBLIC not in (el.get("filepath") or "") or el.get("is-declaration-only") == "yes":
                continue
            if el.tag == "class-decl" and el.get("name"):
                self.structs.setdefault(el.get("name"), el)
            elif el.tag == "enum-decl" and el.get("name"):
                self.enums.setdefault(el.get("name"), el)

    def type_name(self, tid, depth=0):
        el = self.by_id.get(tid)
        if el is None or depth > 20:
            return "?"
        tag = el.tag
        if tag in ("type-decl", "class-decl", "enum-decl", "typedef-decl", "union-decl"):
            return el.get("name") or "(anonymous)"
        if tag == "pointer-type-def":
            return self.type_name(el.get("type-id"), depth + 1) + " *"
        if tag == "qualified-type-def":
            quals = [q for q in ("const", "volatile") if el.get(q) == "yes"]
            return " ".join(quals + [self.type_name(el.get("type-id"), depth + 1)])
        if tag == "array-type-def":
            return self.type_name(el.get("type-id"), depth + 1) + f"[{el.get('size-in-bits')} bits]"
        if tag == "function-type":
            params = [self.type_name(p.get("type-id"), depth + 1) for p in el.findall("parameter")]
            ret = el.find("return")
            rt = self.type_name(ret.get("type-id"), depth + 1) if ret is not None else "void"
            return f"{rt}({', '.join(params)})"
        return tag

    def members(self, name):
        el = self.structs[name]
        out = []
        for dm in el.findall("data-member"):
            v = dm.find("var-decl")
            out.append((v.get("name"), int(dm.get("layout-offset-in-bits", "0")),
                        self.type_name(v.get("type-id"))))
        return out, int(el.get("size-in-bits", "0"))

    def enumerators(self, name):
        return {e.get("name"): int(e.get("value")) for e in self.enums[name].findall("enumerator")}


def sized_structs(header):
    text = open(header, encoding="utf-8").read()
    return set(re.findall(r"^typedef struct (\w+) \{\s*\n\s*uint32_t struct_size;", text, flags=re.M))


def compare_types(base, cur, sized, experimental=frozenset()):
    problems = []
    for name in sorted(base.structs):
        if name in experimental:
            continue
        if name not in cur.structs:
            problems.append(f"struct {name}: removed")
            continue
        (bm, bsize), (cm, csize) = base.members(name), cur.members(name)
        if name in sized:
            if cm[: len(bm)] != bm or csize < bsize:
                problems.append(f"struct {name}: baseline members changed (only appending is "
                                f"allowed)\n      was {bm}\n      now {cm}")
        elif (bm, bsize) != (cm, csize):
            problems.append(f"struct {name}: layout changed\n      was {bm}, {bsize} bits\n"
                            f"      now {cm}, {csize} bits")
    for name in sorted(base.enums):
        if name not in cur.enums:
            problems.append(f"enum {name}: removed")
            continue
        be, ce = base.enumerators(name), cur.enumerators(name)
        for k, v in sorted(be.items()):
            if ce.get(k) != v:
                problems.append(f"enum {name}: {k} was {v}, now {ce.get(k)}")
    return problems


def main():
    header, base_path, cur_path = sys.argv[1:4]
    # The experimental interfaces (AV_STATIC_LINKING_ONLY) may change in any release.
    exp_funcs, exp_types = experimental_names(header)
    with tempfile.NamedTemporaryFile("w", suffix=".supp", delete=False) as supp:
        for f in sorted(exp_funcs):
            supp.write(f"[suppress_function]\n  name = {f}\n")
        for t in sorted(exp_types):
            supp.write(f"[suppress_type]\n  name = {t}\n")
    r = subprocess.run(["abidiff", "--suppressions", supp.name, base_path, cur_path],
                       capture_output=True, text=True)
    os.unlink(supp.name)
    print(r.stdout, end="")
    if r.returncode & 3:
        print(r.stderr, end="")
        print(f"abi-check: abidiff failed (status {r.returncode})")
        return 1
    removed = [line for line in r.stdout.splitlines()
               if "summary:" in line and re.search(r"\b[1-9]\d* [Rr]emoved", line)]
    base, cur = Dump(base_path), Dump(cur_path)
    problems = compare_types(base, cur, sized_structs(header), exp_types)
    for p in problems:
        print("  " + p)
    print(f"public types compared: {len(base.structs)} structs, {len(base.enums)} enums; "
          f"{len(problems)} incompatible")
    if removed or problems:
        print(f"abi-check: INCOMPATIBLE change against {base_path}")
        return 1
    if r.returncode & 4 or len(cur.structs) > len(base.structs) or len(cur.enums) > len(base.enums):
        print("abi-check: compatible changes only (additions, members appended to sized structs)")
    else:
        print(f"abi-check: identical to {base_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
