"""The options and result structs of the C API under the binding's names, and their defaults.

The ctypes classes themselves are generated from the header (_decls, tools/gen_bindings.py).
Every one starts with struct_size and may grow in later library versions; the library follows the
Linux kernel's extensible-struct rule (docs/ABI.md): the caller passes its own sizeof, the library
reads and writes no more than that, and a newer library keeps its defaults for members an older
caller lacks."""
import ctypes

from . import _decls, _native

Replay = _decls.av_replay
EvalOptions = _decls.av_eval_options
EvalPoint = _decls.av_eval_point
EvalMetrics = _decls.av_eval_metrics
RouteOptions = _decls.av_route_options
RouteResult = _decls.av_route_result
EstimatorOptions = _decls.av_estimator_options
TuneOptions = _decls.av_tune_options
UpdateOptions = _decls.av_update_options
FitOptions = _decls.av_fit_options
Price = _decls.av_price
RowSource = _decls.av_row_source

#: struct -> its av_*_init_sized function (the one the header's av_*_init macro calls)
INITS = {
    FitOptions: "av_fit_options_init_sized",
    Replay: "av_replay_init_sized",
    EvalOptions: "av_eval_options_init_sized",
    RouteOptions: "av_route_options_init_sized",
    RouteResult: "av_route_result_init_sized",
    EstimatorOptions: "av_estimator_options_init_sized",
    TuneOptions: "av_tune_options_init_sized",
    UpdateOptions: "av_update_options_init_sized",
    Price: "av_price_init_sized",
    RowSource: "av_row_source_init_sized",
}

PRESENT = _native.PRESENT


def init(cls):
    """An instance of cls holding the library's defaults, with struct_size = this binding's
    sizeof. (Never the exported 0.x av_*_init functions: they write the 0.1.0 layout, so members
    appended since would keep zero instead of their defaults.)"""
    obj = cls()
    getattr(_native, INITS[cls])(ctypes.byref(obj), ctypes.sizeof(cls))
    return obj


def sized(cls):
    """A zeroed output struct whose struct_size is this binding's sizeof (results the library
    writes no more than that of)."""
    obj = cls()
    obj.struct_size = ctypes.sizeof(cls)
    return obj
