"""Loading libavengers and declaring its functions (signatures generated from the header: _decls).

The library is looked up, in this order:

1. the ``AVENGERS_LIB`` environment variable: a path to ``libavengers.so`` (or any file name the
   system loader accepts);
2. the build tree: ``lib/libavengers.so`` relative to this package (``bindings/python/avengers``
   is three levels below the repository root), so that a checkout works without installing;
3. the installed library through the system loader (``libavengers.so.<MAJOR>``, then
   ``ctypes.util.find_library("avengers")``).

Only functions present in the loaded library are declared: a binding newer than the library still
imports, and calling a missing function raises :class:`NotSupported`.
"""
import ctypes
import ctypes.util
import os

from ._errors import error_for

from . import _decls

#: The ABI major version this binding was written against (the SONAME suffix).
ABI_MAJOR = _decls.AV_VERSION_MAJOR

_HERE = os.path.dirname(os.path.abspath(__file__))
_BUILD_TREE_LIB = os.path.normpath(os.path.join(_HERE, "..", "..", "..", "lib", "libavengers.so"))


def _candidates():
    env = os.environ.get("AVENGERS_LIB")
    if env:
        # An explicit choice is final: failing to load it must not silently fall back elsewhere.
        return [env], True
    names = []
    if os.path.exists(_BUILD_TREE_LIB):
        names.append(_BUILD_TREE_LIB)
    names.append("libavengers.so.%d" % ABI_MAJOR)
    found = ctypes.util.find_library("avengers")
    if found:
        names.append(found)
    return names, False


def _load():
    names, explicit = _candidates()
    errors = []
    for name in names:
        try:
            return ctypes.CDLL(name), name
        except OSError as e:
            errors.append("%s: %s" % (name, e))
            if explicit:
                break
    raise OSError("cannot load libavengers (set AVENGERS_LIB to the path of libavengers.so); tried:\n  "
                  + "\n  ".join(errors))


lib, lib_path = _load()

#: av_fit_options and its progress callback type (generated from the header in _decls)
FitOptions = _decls.av_fit_options
PROGRESS_FN = _decls.av_fit_options_progress_fn


class _Missing:
    """Stands in for a function the loaded library does not export (an older libavengers)."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *args):
        raise error_for(-17, "%s is not exported by %s (an older libavengers?)" % (self.name, lib_path))


def declare(table):
    """Declare signatures for the functions in table (name -> (restype, [(parameter, argtype)]),
    as _decls.FUNCTIONS) that the library exports; returns the names that are present."""
    present = []
    for name, (res, params) in table.items():
        args = [t for _, t in params]
        fn = getattr(lib, name, None)
        if fn is None:
            globals()[name] = _Missing(name)
            continue
        fn.restype = res
        fn.argtypes = args
        globals()[name] = fn
        present.append(name)
    return present


#: every function of the header (generated in _decls) that the loaded library exports
PRESENT = set(declare(_decls.FUNCTIONS))


def has(name):
    """True when the loaded library exports name."""
    return getattr(lib, name, None) is not None


def check(rc):
    """Raise the exception for a negative return code (with this thread's av_last_error());
    return rc otherwise."""
    if rc < 0:
        raise error_for(int(rc), last_error())
    return rc


def last_error():
    msg = lib.av_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def strerror(code):
    return lib.av_strerror(code).decode("utf-8", "replace")


def version():
    """(version string, version number) of the loaded library."""
    return lib.av_version_string().decode(), int(lib.av_version_number())


__all__ = ["lib", "lib_path", "declare", "has", "check", "last_error", "strerror", "version",
           "FitOptions", "PROGRESS_FN"]
