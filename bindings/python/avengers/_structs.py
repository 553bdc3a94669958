"""ctypes mirrors of the options and result structs of the evaluation, compact-centroid and
"beyond the paper" APIs, and the signatures of their functions. Declared only when the loaded
library exports them (an older library simply lacks the methods that use them)."""
import ctypes

from . import _native
from ._native import cstr, f32, f64, i32, sz, u32, u64, vp

u8p = ctypes.POINTER(ctypes.c_uint8)


class Replay(ctypes.Structure):
    _fields_ = [("struct_size", u32), ("value_type", u32), ("n", sz), ("dim", sz),
                ("row_stride", sz), ("embeddings", vp), ("n_models", sz), ("model_names", vp),
                ("scores", vp), ("costs", vp)]


class EvalOptions(ctypes.Structure):
    _fields_ = [("struct_size", u32), ("top_p", u32), ("alphas", vp), ("n_alphas", sz),
                ("target_fraction", f64)]


class EvalPoint(ctypes.Structure):
    _fields_ = [("struct_size", u32), ("alpha", f64), ("mean_score", f64), ("mean_cost", f64),
                ("total_cost", f64), ("n_scored", sz), ("n_missing", sz)]


class EvalMetrics(ctypes.Structure):
    _fields_ = [("struct_size", u32), ("best_model", i32), ("best_score", f64),
                ("best_cost", f64), ("perf_gain", f64), ("cost_save", f64),
                ("cost_save_at_target", f64), ("pareto_dist", f64), ("auc", f64),
                ("max_cost", f64), ("target_fraction", f64)]


class RouteOptions(ctypes.Structure):
    _fields_ = [("struct_size", u32), ("alpha", f32), ("top_p", u32), ("weighting", u32),
                ("temperature", f32), ("kappa", f64), ("flags", u32),
                ("max_expected_cost", f64), ("min_expected_score", f64), ("guard_margin", f64),
                ("model_mask", vp), ("model_mask_len", sz), ("embedder_id", cstr),
                ("explore_seed", u64), ("normalisation", u32)]


class RouteResult(ctypes.Structure):
    _fields_ = [("struct_size", u32), ("model", i32), ("n_models", sz), ("n_feasible", sz),
                ("ranked", vp), ("ranked_scores", vp), ("ranked_cap", sz), ("n_ranked", sz),
                ("model_scores", vp), ("expected_score", vp), ("expected_cost", vp),
                ("models_cap", sz), ("clusters", vp), ("cluster_sims", vp),
                ("cluster_weights", vp), ("cluster_support", vp), ("clusters_cap", sz),
                ("n_clusters", sz), ("best_similarity", f32), ("support", f64),
                ("guarded", u32)]


class EstimatorOptions(ctypes.Structure):
    _fields_ = [("struct_size", u32), ("kappa", f64), ("weighting", u32), ("temperature", f32),
                ("guard", u32), ("guard_margin", f64), ("normalisation", u32)]


class TuneOptions(ctypes.Structure):
    _fields_ = [("struct_size", u32), ("n_clusters", vp), ("n_n_clusters", sz), ("top_p", vp),
                ("n_top_p", sz), ("kappa", vp), ("n_kappa", sz), ("temperatures", vp),
                ("n_temperatures", sz), ("n_folds", u32), ("n_alphas", u32), ("n_init", u32),
                ("guard", u32), ("guard_margin", f64), ("best_auc", f64),
                ("global_normalisation", u32), ("members", vp), ("n_members", sz)]


class UpdateOptions(ctypes.Structure):
    _fields_ = [("struct_size", u32), ("half_life", f64), ("top_p", u32), ("weighting", u32),
                ("temperature", f32), ("weight", f64)]


#: struct -> its av_*_init function (for defaults and the layout test)
INITS = {
    Replay: "av_replay_init",
    EvalOptions: "av_eval_options_init",
    RouteOptions: "av_route_options_init",
    RouteResult: "av_route_result_init",
    EstimatorOptions: "av_estimator_options_init",
    TuneOptions: "av_tune_options_init",
    UpdateOptions: "av_update_options_init",
}

_P = ctypes.POINTER
_SIGNATURES = {
    "av_router_centroid_type": (ctypes.c_int, [vp]),
    "av_router_convert": (ctypes.c_int, [_P(vp), vp, ctypes.c_int]),
    "av_replay_init": (None, [vp]),
    "av_eval_options_init": (None, [vp]),
    "av_eval_run": (ctypes.c_int, [_P(vp), vp, vp, vp]),
    "av_eval_run_rows": (ctypes.c_int, [_P(vp), vp, vp, vp, sz, vp]),
    "av_eval_subset_auc": (ctypes.c_int, [_P(f64), vp, vp, vp, sz, vp]),
    "av_eval_result_free": (None, [vp]),
    "av_eval_n_rows": (sz, [vp]),
    "av_eval_n_alphas": (sz, [vp]),
    "av_eval_n_models": (sz, [vp]),
    "av_eval_model_name": (cstr, [vp, sz]),
    "av_eval_alpha": (ctypes.c_int, [vp, sz, vp]),
    "av_eval_alpha_share": (ctypes.c_int, [vp, sz, sz, _P(f64)]),
    "av_eval_model": (ctypes.c_int, [vp, sz, vp]),
    "av_eval_oracle": (ctypes.c_int, [vp, vp]),
    "av_eval_metrics_get": (ctypes.c_int, [vp, vp]),
    "av_eval_frontier_count": (sz, [vp]),
    "av_eval_frontier_at": (ctypes.c_int, [vp, sz, _P(u32), _P(sz)]),
    "av_route_options_init": (None, [vp]),
    "av_route_result_init": (None, [vp]),
    "av_route_ex": (i32, [vp, vp, sz, vp, vp]),
    "av_estimator_options_init": (None, [vp]),
    "av_router_set_estimator": (ctypes.c_int, [vp, vp]),
    "av_router_get_estimator": (ctypes.c_int, [vp, vp]),
    "av_tune_options_init": (None, [vp]),
    "av_tune_options_default_grid": (None, [vp]),
    "av_router_expected_mean": (ctypes.c_int, [vp, f32, vp, sz, sz, vp, vp, _P(f64), _P(f64)]),
    "av_router_alpha_for_budget": (ctypes.c_int, [vp, f64, vp, sz, sz, vp, vp, u32, _P(f32)]),
    "av_router_alpha_for_accuracy": (ctypes.c_int, [vp, f64, vp, sz, sz, vp, vp, u32, _P(f32)]),
    "av_update_options_init": (None, [vp]),
    "av_profile_update_ex": (ctypes.c_int, [vp, vp, sz, i32, f32, f32, vp]),
    "av_router_add_model": (i32, [vp, cstr, f64, f64, f64]),
    "av_profile_merge": (ctypes.c_int, [vp, vp]),
    "av_router_centroid_hash": (cstr, [vp]),
}

PRESENT = set(_native.declare(_SIGNATURES))

#: bytes of scratch for an *_init call: far more than any options struct will ever need
_SCRATCH = 4096


def library_size(cls):
    """struct_size that the library's init function writes (its sizeof), or None if absent."""
    name = INITS[cls]
    if name not in PRESENT:
        return None
    scratch = ctypes.create_string_buffer(_SCRATCH)
    getattr(_native, name)(scratch)
    return ctypes.c_uint32.from_buffer(scratch).value


def init(cls):
    """An instance of cls holding the library's defaults. The library may be newer and its struct
    larger: init writes into a scratch buffer, the fields this binding knows are copied, and
    struct_size tells the library to read no more than that."""
    name = INITS[cls]
    getattr(_native, name)  # raises NotSupported through _Missing when absent
    scratch = ctypes.create_string_buffer(_SCRATCH)
    getattr(_native, name)(scratch)
    obj = cls()
    lib_size = ctypes.c_uint32.from_buffer(scratch).value
    n = min(ctypes.sizeof(cls), lib_size)
    ctypes.memmove(ctypes.addressof(obj), scratch, n)
    obj.struct_size = n
    return obj


def sized(cls):
    """A zeroed output struct whose struct_size is this binding's sizeof (results the library
    writes no more than that of)."""
    obj = cls()
    obj.struct_size = ctypes.sizeof(cls)
    return obj
