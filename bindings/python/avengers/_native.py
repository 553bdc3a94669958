"""Loading libavengers and declaring its functions (signatures generated from the header: _decls).

The library is looked up, in this order (the first that loads wins):

1. the ``AVENGERS_LIB`` environment variable: the path of ``libavengers.so`` or of the directory
   holding it (an explicit choice is final: when it does not load, nothing else is tried);
2. next to the package: a ``libavengers.so.<MAJOR>`` inside the package directory, then the
   library directory that ``make install`` recorded in ``_installed.py`` when it installed the
   package (so an installed binding finds the library installed with it);
3. the build tree: ``lib/libavengers.so`` of the checkout this package sits in
   (``bindings/python/avengers`` is three levels below the repository root);
4. the system loader (``libavengers.so.<MAJOR>``: ``/etc/ld.so.conf`` after ``ldconfig``,
   ``LD_LIBRARY_PATH``), then ``ctypes.util.find_library("avengers")``;
5. ``pkg-config --variable=libdir avengers`` (honours ``PKG_CONFIG_PATH``).

When none loads, the error lists every place tried and says to run ``make`` or set
``AVENGERS_LIB``. Only functions present in the loaded library are declared: a binding newer than
the library still imports, and calling a missing function raises :class:`NotSupported`.
"""
import ctypes
import ctypes.util
import os
import shutil
import subprocess

from ._errors import error_for

from . import _decls

#: The ABI major version this binding was written against (the SONAME suffix).
ABI_MAJOR = _decls.AV_VERSION_MAJOR
SONAME = "libavengers.so.%d" % ABI_MAJOR

_HERE = os.path.dirname(os.path.abspath(__file__))
_BUILD_TREE_LIB = os.path.normpath(os.path.join(_HERE, "..", "..", "..", "lib", "libavengers.so"))


def _in_dir(d):
    """The library file inside directory d: the SONAME, else the development symlink."""
    for name in (SONAME, "libavengers.so"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return os.path.join(d, SONAME)


def _installed_libdir():
    try:
        from . import _installed
    except ImportError:
        return None
    return getattr(_installed, "LIBDIR", None)


def _pkg_config_libdir():
    exe = shutil.which(os.environ.get("PKG_CONFIG", "pkg-config"))
    if not exe:
        return None
    try:
        p = subprocess.run([exe, "--variable=libdir", "avengers"], capture_output=True, text=True,
                           timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    d = p.stdout.strip()
    return d if p.returncode == 0 and d else None


def _candidates():
    """Yields (what, name) lazily, so that pkg-config runs only when everything before failed."""
    env = os.environ.get("AVENGERS_LIB")
    if env:
        yield "AVENGERS_LIB", _in_dir(env) if os.path.isdir(env) else env
        return
    packaged = os.path.join(_HERE, SONAME)
    if os.path.exists(packaged):
        yield "inside the package", packaged
    libdir = _installed_libdir()
    if libdir:
        yield "installed with the package", _in_dir(libdir)
    if os.path.exists(_BUILD_TREE_LIB):
        yield "the checkout's build", _BUILD_TREE_LIB
    yield "the system loader", SONAME
    found = ctypes.util.find_library("avengers")
    if found and found != SONAME:
        yield "ctypes.util.find_library", found
    libdir = _pkg_config_libdir()
    if libdir:
        yield "pkg-config avengers", _in_dir(libdir)


def _file_of(cdll, name):
    """The file the loader chose for a bare name (dladdr on one of its functions), else name."""
    if os.sep in name:
        return name
    try:
        dladdr = ctypes.CDLL(None).dladdr
        # glibc's Dl_info: four pointers, the first the file name (dli_fname)
        info = (ctypes.c_void_p * 4)()
        addr = ctypes.cast(cdll.av_version_number, ctypes.c_void_p)  # passed as a pointer
        if dladdr(addr, info) and info[0]:
            return os.fsdecode(ctypes.string_at(info[0]))
    except (AttributeError, OSError):
        pass
    return name


def _load():
    errors = []
    for what, name in _candidates():
        try:
            cdll = ctypes.CDLL(name)
            return cdll, _file_of(cdll, name)
        except OSError as e:
            errors.append("%s (%s): %s" % (name, what, e))
    if not errors:
        errors.append("no candidate")
    raise OSError("cannot load libavengers: build it with `make` in the libavengers checkout (or "
                  "`make install`), or set AVENGERS_LIB to libavengers.so or to its directory; "
                  "tried:\n  " + "\n  ".join(errors))


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
