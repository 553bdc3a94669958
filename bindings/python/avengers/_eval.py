"""Replay evaluation (av_eval_*): route logged queries again and read the recorded outcomes for a
sweep of alphas, beside every single model and the oracle (docs/EVALUATION.md)."""
import collections
import ctypes

import numpy as np

from . import _args, _arrays, _native, _structs
from ._errors import error_for

Point = collections.namedtuple("Point", "alpha mean_score mean_cost total_cost n_scored n_missing")
_ROUTER, _MODEL = 0, 1


def replay(router, embeddings, scores, costs, models=None):
    """(av_replay, keepalive) over numpy arrays, without copying when they already have the C
    layout: embeddings float32 with contiguous rows (any row stride), scores and costs both
    float32 or both float64, C-contiguous, shape (n, n_models)."""
    ep, n, d, stride, e_own = _arrays.matrix(embeddings, name="embeddings")
    s, c = np.asarray(scores), np.asarray(costs)
    if s.ndim != 2 or s.shape != c.shape or s.shape[0] != n:
        raise ValueError("scores and costs must both be (%d, n_models), got %s and %s"
                         % (n, s.shape, c.shape))
    dt = np.dtype(np.float64) if np.float64 in (s.dtype, c.dtype) else _arrays.F32
    sp, s_own = _arrays.contiguous(s, dt, s.shape, "scores")
    cp, c_own = _arrays.contiguous(c, dt, c.shape, "costs")
    rp = _structs.init(_structs.Replay)
    rp.value_type = 1 if dt == np.float64 else 0
    rp.n, rp.dim, rp.row_stride, rp.embeddings = n, d, stride, ep
    rp.n_models, rp.scores, rp.costs = s.shape[1], sp, cp
    keep = [e_own, s_own, c_own]
    if models is not None:
        enc = [_args.cstring(m, "models[%d]" % i) for i, m in enumerate(models)]
        if len(enc) != s.shape[1]:
            raise ValueError("models must name the %d columns" % s.shape[1])
        names = (ctypes.c_char_p * len(enc))(*enc)
        keep.append(names)
        rp.model_names = ctypes.addressof(names)
    return rp, keep


def options(alphas=None, top_p=None, target_fraction=None):
    o = _structs.init(_structs.EvalOptions)
    keep = None
    if alphas is not None:
        keep = np.ascontiguousarray(alphas, dtype=np.float64).ravel()
        o.alphas, o.n_alphas = keep.ctypes.data, keep.shape[0]
    if top_p is not None:
        o.top_p = _args.integer(top_p, "top_p", "uint32_t")
    if target_fraction is not None:
        o.target_fraction = float(target_fraction)
    return o, keep


class Evaluation:
    """The result of Router.evaluate (av_eval_result). Everything is read out eagerly into Python
    objects and the C result is freed at once, so an Evaluation needs no closing."""

    def __init__(self, handle):
        h = handle
        try:
            self.n_rows = int(_native.av_eval_n_rows(h))
            self.models = tuple(_args.text(_native.av_eval_model_name(h, i))
                                for i in range(_native.av_eval_n_models(h)))
            na = int(_native.av_eval_n_alphas(h))
            self.points = [self._point(_native.av_eval_alpha, h, i) for i in range(na)]
            self.alphas = np.array([p.alpha for p in self.points])
            self.shares = np.zeros((na, len(self.models)))
            v = ctypes.c_double()
            for i in range(na):
                for m in range(len(self.models)):
                    _native.check(_native.av_eval_alpha_share(h, i, m, ctypes.byref(v)))
                    self.shares[i, m] = v.value
            self.model_points = {name: self._point(_native.av_eval_model, h, m)
                                 for m, name in enumerate(self.models)}
            self.oracle = self._point(_native.av_eval_oracle, h)
            mt = _structs.sized(_structs.EvalMetrics)
            _native.check(_native.av_eval_metrics_get(h, ctypes.byref(mt)))
            self.metrics = {f: getattr(mt, f) for f, _ in mt._fields_ if f != "struct_size"}
            self.metrics["best_model_name"] = self.models[mt.best_model] if mt.best_model >= 0 else None
            kind, idx = ctypes.c_uint32(), ctypes.c_size_t()
            self.frontier = []
            for i in range(_native.av_eval_frontier_count(h)):
                _native.check(_native.av_eval_frontier_at(h, i, ctypes.byref(kind), ctypes.byref(idx)))
                if kind.value == _ROUTER:
                    self.frontier.append(("router", float(self.alphas[idx.value])))
                else:
                    self.frontier.append(("model", self.models[idx.value]))
        finally:
            _native.av_eval_result_free(h)

    @staticmethod
    def _point(fn, h, *idx):
        p = _structs.sized(_structs.EvalPoint)
        _native.check(fn(h, *idx, ctypes.byref(p)))
        alpha = _args.float32_as_given(p.alpha)  # NaN (single models, oracle) stays NaN
        return Point(alpha, p.mean_score, p.mean_cost, p.total_cost, p.n_scored, p.n_missing)

    def table(self):
        """A plain-text table: every alpha, every single model, the oracle, then the metrics."""
        lines = ["%-34s %10s %12s %12s" % ("setting", "mean score", "mean cost", "total cost")]
        rows = [("alpha=%.2f" % p.alpha, p) for p in self.points]
        rows += list(self.model_points.items()) + [("oracle", self.oracle)]
        for name, p in rows:
            lines.append("%-34s %10.4f %12.4g %12.4g" % (name, p.mean_score, p.mean_cost, p.total_cost))
        m = self.metrics
        lines.append("best single model %s: score %.4f, cost %.4g" % (m["best_model_name"], m["best_score"], m["best_cost"]))
        lines.append("perf_gain %.4f  cost_save %.4f  cost_save@%.0f%% %.4f  pareto_dist %.4f  auc %.4f"
                     % (m["perf_gain"], m["cost_save"], 100 * m["target_fraction"],
                        m["cost_save_at_target"], m["pareto_dist"], m["auc"]))
        return "\n".join(lines)

    def __repr__(self):
        return "<avengers.Evaluation rows=%d alphas=%d auc=%.4f>" % (
            self.n_rows, len(self.points), self.metrics["auc"])


def run(router_handle, rp, opts, rows=None):
    h = ctypes.c_void_p()
    if rows is None:
        rc = _native.av_eval_run(ctypes.byref(h), router_handle, ctypes.byref(rp), ctypes.byref(opts))
    else:
        r = _args.indices(rows, "rows")
        rc = _native.av_eval_run_rows(ctypes.byref(h), router_handle, ctypes.byref(rp),
                                      r.ctypes.data, r.shape[0], ctypes.byref(opts))
    if rc < 0:
        raise error_for(int(rc), _native.last_error())
    return Evaluation(h.value)


def subset_auc(router_handle, rp, opts, rows):
    r = _args.indices(rows, "rows")
    auc = ctypes.c_double()
    _native.check(_native.av_eval_subset_auc(ctypes.byref(auc), router_handle, ctypes.byref(rp),
                                             r.ctypes.data, r.shape[0], ctypes.byref(opts)))
    return auc.value
