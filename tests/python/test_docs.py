"""docs/API.md and docs/man/libavengers.3 keep up with the header: every function declared with
AV_API in avengers.h must be documented (named in the reference) and listed in the man page."""
import os
import re

from conftest import ROOT


def api_functions():
    with open(os.path.join(ROOT, "include", "avengers", "avengers.h")) as f:
        text = f.read()
    # "AV_API <return type> <name>(" possibly with a pointer star before the name
    names = re.findall(r"^AV_API\b[^(;]*?\b(av_\w+)\s*\(", text, flags=re.M)
    assert len(names) >= 40, "header parse found only %d functions" % len(names)
    return sorted(set(names))


def test_every_function_in_api_md():
    with open(os.path.join(ROOT, "docs", "API.md")) as f:
        doc = f.read()
    documented = set(re.findall(r"\b(av_\w+)\s*\(", doc))
    missing = [n for n in api_functions() if n not in documented]
    assert not missing, "docs/API.md lacks: %s" % ", ".join(missing)


def test_every_function_in_man_page():
    with open(os.path.join(ROOT, "docs", "man", "libavengers.3")) as f:
        man = f.read().replace("\\_", "_").replace("\\fB", "").replace("\\fR", "")
    missing = [n for n in api_functions() if n not in man]
    assert not missing, "libavengers(3) lacks: %s" % ", ".join(missing)


def test_error_table_in_api_md(avengers):
    with open(os.path.join(ROOT, "include", "avengers", "avengers.h")) as f:
        codes = re.findall(r'X\((\w+),\s*(-\d+),', f.read())
    with open(os.path.join(ROOT, "docs", "API.md")) as f:
        doc = f.read()
    for name, code in codes:
        row = re.search(r"^\| `AV_%s` \| %s \| .* \| `avengers\.(\w+)` \|$" % (name, code), doc, re.M)
        assert row, "docs/API.md has no error-table row for AV_%s (%s)" % (name, code)
        assert row.group(1) == avengers.BY_CODE[int(code)].__name__


def test_bindings_declare_every_function():
    """The Python binding's generated ctypes declarations (_decls.py) and avengers-sys's
    generated bindings.rs declare every function of the header (make check-python and
    check-rust also regenerate both and compare), and no binding restates them by hand."""
    b = os.path.join(ROOT, "bindings")
    decls = open(os.path.join(b, "python", "avengers", "_decls.py")).read()
    rs = open(os.path.join(b, "rust", "avengers-sys", "src", "bindings.rs")).read()
    names = api_functions()
    missing_py = [n for n in names if '"%s": (' % n not in decls]
    missing_rs = [n for n in names if "fn %s(" % n not in rs]
    assert not missing_py, "_decls.py lacks %s: run `make bindings`" % missing_py
    assert not missing_rs, "bindings.rs lacks %s: run `make bindings`" % missing_rs
    for f in ("_native.py", "_structs.py", "_router.py", "_eval.py"):
        text = open(os.path.join(b, "python", "avengers", f)).read()
        assert "_fields_ = [" not in text and ".argtypes = [" not in text, \
            "%s declares C items by hand; they belong to the generated _decls.py" % f
    sys_lib = open(os.path.join(b, "rust", "avengers-sys", "src", "lib.rs")).read()
    assert 'include!("bindings.rs")' in sys_lib
    assert not re.search(r"^\s*pub (fn|struct) av_", sys_lib, re.M), \
        "avengers-sys/src/lib.rs declares C items by hand; they belong to bindings.rs"
