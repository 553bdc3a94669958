"""Loading libavengers and declaring the C functions' signatures (ctypes).

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

#: The ABI major version this binding was written against (the SONAME suffix).
ABI_MAJOR = 0

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

c_float_p = ctypes.POINTER(ctypes.c_float)
c_double_p = ctypes.POINTER(ctypes.c_double)
c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_size_t_p = ctypes.POINTER(ctypes.c_size_t)
c_char_pp = ctypes.POINTER(ctypes.c_char_p)
vp = ctypes.c_void_p
vpp = ctypes.POINTER(ctypes.c_void_p)
sz = ctypes.c_size_t
i32 = ctypes.c_int32
u32 = ctypes.c_uint32
u64 = ctypes.c_uint64
f32 = ctypes.c_float
f64 = ctypes.c_double
cint = ctypes.c_int
cstr = ctypes.c_char_p

PROGRESS_FN = ctypes.CFUNCTYPE(None, vp, u32, u32, u32, f64)


class FitOptions(ctypes.Structure):
    """Mirror of av_fit_options (fields in header order; the struct only grows at the end)."""

    _fields_ = [
        ("struct_size", u32),
        ("n_clusters", u32),
        ("top_p", u32),
        ("n_init", u32),
        ("max_iter", u32),
        ("tol", f32),
        ("seed", u64),
        ("centroid_type", u32),
        ("verbose", u32),
        ("embedder_id", cstr),
        ("progress", PROGRESS_FN),
        ("progress_user", vp),
        ("tune", vp),  # const av_tune_options *
        ("members", u32),  # appended in 0.2
    ]


# name: (restype, argtypes). Handles are passed as void pointers.
_SIGNATURES = {
    "av_strerror": (cstr, [cint]),
    "av_last_error": (cstr, []),
    "av_version_number": (ctypes.c_uint, []),
    "av_version_string": (cstr, []),
    "av_simd_backend": (cstr, []),
    "av_free": (None, [vp]),
    "av_router_load": (cint, [vpp, cstr]),
    "av_router_load_buffer": (cint, [vpp, vp, sz]),
    "av_router_save": (cint, [vp, cstr]),
    "av_router_save_buffer": (cint, [vp, vpp, c_size_t_p]),
    "av_router_free": (None, [vp]),
    "av_router_dim": (sz, [vp]),
    "av_router_n_clusters": (sz, [vp]),
    "av_router_members": (sz, [vp]),
    "av_router_n_models": (sz, [vp]),
    "av_router_top_p": (sz, [vp]),
    "av_router_model_name": (cstr, [vp, sz]),
    "av_router_model_index": (i32, [vp, cstr]),
    "av_router_get_centroid": (cint, [vp, sz, vp, sz]),
    "av_router_cluster_stats": (cint, [vp, sz, sz, c_double_p, c_double_p, c_double_p]),
    "av_router_set_top_p": (cint, [vp, u32]),
    "av_router_meta": (cstr, [vp, cstr]),
    "av_router_meta_count": (sz, [vp]),
    "av_router_meta_at": (cint, [vp, sz, c_char_pp, c_char_pp]),
    "av_router_set_meta": (cint, [vp, cstr, cstr]),
    "av_router_simd_backend": (cstr, [vp]),
    "av_router_from_parts": (cint, [vpp, sz, sz, sz, c_char_pp, vp, vp, vp, vp, u32]),
    "av_route": (i32, [vp, vp, sz, f32]),
    "av_route_batch": (cint, [vp, vp, sz, sz, sz, f32, vp]),
    "av_profile_update": (cint, [vp, vp, sz, i32, f32, f32]),
    "av_fit_options_init": (None, [vp]),
    "av_builder_new": (cint, [vpp, sz, sz, c_char_pp]),
    "av_builder_add": (cint, [vp, vp, sz, vp, vp]),
    "av_builder_n_rows": (sz, [vp]),
    "av_builder_fit": (cint, [vp, vp, vpp]),
    "av_builder_free": (None, [vp]),
    "av_builder_inertia": (f64, [vp]),
}


class _Missing:
    """Stands in for a function the loaded library does not export (an older libavengers)."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *args):
        raise error_for(-17, "%s is not exported by %s (an older libavengers?)" % (self.name, lib_path))


def declare(table):
    """Declare signatures for the functions in table that the library exports; returns the names
    that are present. Called again by modules wrapping newer parts of the API."""
    present = []
    for name, (res, args) in table.items():
        fn = getattr(lib, name, None)
        if fn is None:
            globals()[name] = _Missing(name)
            continue
        fn.restype = res
        fn.argtypes = args
        globals()[name] = fn
        present.append(name)
    return present


declare(_SIGNATURES)


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
