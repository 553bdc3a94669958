"""avengers: Python binding of libavengers (cost-aware LLM routing after Avengers-Pro).

    import numpy as np, avengers
    with avengers.Router.load("router.avr") as r:
        i = r.route(embedding, alpha=0.7)          # model index
        print(r.models[i])
        idx = r.route_batch(matrix, alpha=0.7)     # int32 array, one model per row

Arrays: float32 with contiguous rows are passed to C by pointer (no copy); anything else is
converted once to C-contiguous float32 (see avengers._arrays). Errors raise subclasses of
avengers.Error carrying .code and .detail (av_last_error()). load_replay reads the data files of
the `avengers` command, with its model order (avengers._data). The library is found through
AVENGERS_LIB (a file or directory), next to the package, the build tree (lib/libavengers.so), the
system loader or pkg-config (see avengers._native).
"""
from . import _native
from ._errors import *  # noqa: F401,F403  (the exception classes)
from ._errors import Error, CODES, BY_CODE, error_for
from ._data import DataError, Replay, load_embeddings, load_replay
from ._eval import Evaluation, Point
from ._router import Builder, RouteExplanation, RouteResult, Router, TuneProgress

__version__ = "1.4.1"


def version():
    """Version string of the loaded libavengers."""
    return _native.version()[0]


def version_number():
    return _native.version()[1]


def simd_backend():
    """The SIMD kernel set this process uses ("scalar", "avx2", "avx512", "neon")."""
    return _native.lib.av_simd_backend().decode()


def strerror(code):
    from ._args import integer

    return _native.strerror(integer(code, "code", "int"))


def library_path():
    """The path of the libavengers that was loaded (the file the system loader chose, when it
    was found by name)."""
    return _native.lib_path


__all__ = ["Router", "Builder", "Evaluation", "Point", "RouteExplanation", "RouteResult", "TuneProgress",
           "Replay", "DataError", "load_replay", "load_embeddings", "Error", "CODES", "BY_CODE", "error_for", "version",
           "version_number", "simd_backend", "strerror", "library_path"] + \
    [c.__name__ for c in BY_CODE.values()]
