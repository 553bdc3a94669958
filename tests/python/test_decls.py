"""The Python binding's ctypes declarations (bindings/python/avengers/_decls.py) are those of the
header: regenerated from avengers.h they equal the committed file, and every struct agrees with
the C compiler field by field (name, offset, size, kind of type, signedness)."""
import ctypes
import os
import subprocess
import sys

import pytest

from conftest import ROOT

GEN = os.path.join(ROOT, "tools", "gen_bindings.py")


def test_decls_match_the_header():
    """tools/gen_bindings.py --check python: fails with a diff when the header changed and
    _decls.py was not regenerated (`make bindings`)."""
    try:
        import pycparser  # noqa: F401
    except ImportError:
        pytest.skip("python3-pycparser not installed: _decls.py not regenerated for comparison "
                    "(the field-by-field check below still runs)")
    p = subprocess.run([sys.executable, GEN, "--check", "python"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


# __builtin_classify_type (gcc, clang): the kind of a member's type
_INTEGER, _POINTER, _REAL = 1, 5, 8
_FLOATS = (ctypes.c_float, ctypes.c_double)


def _kind(t):
    if t in _FLOATS:
        return _REAL
    if t in (ctypes.c_void_p, ctypes.c_char_p) or issubclass(t, ctypes._CFuncPtr):
        return _POINTER
    if issubclass(t, ctypes._SimpleCData):
        return _INTEGER
    raise AssertionError("unexpected ctypes field type %r" % t)


def _signed(t):
    return int(t(-1).value < 0)


def test_structs_match_the_c_compiler(avengers, tmp_path):
    """One C program, compiled against the header with AV_STATIC_LINKING_ONLY, prints every
    struct's size and, for every field the ctypes class has, its offset, size, type kind and (for
    integers) signedness. A field that is misnamed fails to compile; one of the wrong kind or
    place fails the comparison."""
    structs = avengers._decls.STRUCTS
    assert len(structs) >= 10, "the generated declarations hold only %d structs" % len(structs)
    lines = ['#define AV_STATIC_LINKING_ONLY', '#include "avengers/avengers.h"', "#include <stdio.h>",
             "#include <stddef.h>", "int main(void) {"]
    want = []
    for name, cls in structs.items():
        lines.append('  printf("%s %%zu\\n", sizeof(%s));' % (name, name))
        want.append("%s %d" % (name, ctypes.sizeof(cls)))
        for field, t in cls._fields_:
            d = getattr(cls, field)
            k = _kind(t)
            member = "((%s *)0)->%s" % (name, field)
            signed = ("(int)((__typeof__(%s))-1 < 0)" % member) if k == _INTEGER else "0"
            lines.append('  printf("%s.%s %%zu %%zu %%d %%d\\n", offsetof(%s, %s), sizeof(%s), '
                         "__builtin_classify_type(%s), %s);"
                         % (name, field, name, field, member, member, signed))
            want.append("%s.%s %d %d %d %d" % (name, field, d.offset, d.size, k,
                                               _signed(t) if k == _INTEGER else 0))
    lines += ["  return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    cc = os.environ.get("CC", "cc")
    p = subprocess.run([cc, "-std=gnu11", "-Wall", "-I", os.path.join(ROOT, "include"), str(src),
                        "-o", str(exe)], capture_output=True, text=True)
    assert p.returncode == 0, "the C program did not compile:\n" + p.stderr[-3000:]
    got = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split("\n")
    diff = [(w, g) for w, g in zip(want, got) if w != g]
    assert not diff, "ctypes (left) and the C compiler (right) disagree:\n" + "\n".join(
        "  %s  !=  %s" % d for d in diff)


def test_every_enum_and_constant(avengers):
    """Enumerators and integer macros come from the header too; spot-check a few against the
    library's behaviour."""
    d = avengers._decls
    assert (d.AV_VERSION_MAJOR, d.AV_VERSION_MINOR, d.AV_VERSION_PATCH) == tuple(
        int(x) for x in avengers._native.version()[0].split("."))
    assert avengers._native.strerror(d.AV_EDIM).startswith("embedding dimension")
    assert d.AV_ERRNO_LAST_ == min(v for k, v in vars(d).items()
                                   if k.startswith("AV_E") and isinstance(v, int))
