"""Router and Builder: thin, safe wrappers over av_router / av_builder handles."""
import collections
import ctypes
import weakref

import numpy as np

from . import _args, _arrays, _decls, _eval, _native, _structs
from ._errors import Error, error_for

_CENTROID_TYPES = {"f32": _decls.AV_CENTROIDS_F32, "f16": _decls.AV_CENTROIDS_F16,
                   "int8": _decls.AV_CENTROIDS_INT8}
_CENTROID_NAMES = {v: k for k, v in _CENTROID_TYPES.items()}
_WEIGHTING = {"router": _decls.AV_WEIGHTING_ROUTER, "hard": _decls.AV_WEIGHTING_HARD,
              "softmax": _decls.AV_WEIGHTING_SOFTMAX}
_WEIGHTING_NAMES = {v: k for k, v in _WEIGHTING.items()}
_NORMALISATION = {"router": _decls.AV_NORMALISE_ROUTER, "cluster": _decls.AV_NORMALISE_CLUSTER,
                  "global": _decls.AV_NORMALISE_GLOBAL}
_NORMALISATION_NAMES = {v: k for k, v in _NORMALISATION.items()}
# av_route_options.flags
_ROUTE_MAX_COST, _ROUTE_MIN_SCORE = _decls.AV_ROUTE_MAX_COST, _decls.AV_ROUTE_MIN_SCORE
_ROUTE_GUARD_ON, _ROUTE_GUARD_OFF = _decls.AV_ROUTE_GUARD_ON, _decls.AV_ROUTE_GUARD_OFF
_ROUTE_EXPLORE = _decls.AV_ROUTE_EXPLORE


def _named(table, value, what):
    """The C value of an option given by name (a key of table) or as its uint32_t number."""
    if isinstance(value, str):
        if value not in table:
            raise ValueError("%s must be one of %s, got %r" % (what, ", ".join(map(repr, table)), value))
        return table[value]
    return _args.integer(value, what, "uint32_t")


def _weighting(w):
    return _named(_WEIGHTING, w, "weighting")


def _normalisation(n):
    return _named(_NORMALISATION, n, "normalisation")


def _centroid_type(t):
    return _named(_CENTROID_TYPES, t, "centroid_type")


class RouteExplanation:
    """What Router.route_ex returns: the decision and its explanation (av_route_result).

    model (int) and model_name (str): the chosen model; n_models, n_feasible: models considered
    and allowed by the mask and limits; ranked, ranked_scores: the feasible models best first and
    their routing scores; model_scores, expected_score, expected_cost: per model (index = model);
    clusters, cluster_sims, cluster_weights, cluster_support: the clusters used, most similar
    first; best_similarity: to the nearest centroid; support: outcomes of the chosen model in
    the clusters used; guarded: True when the guard or the safety rule replaced the rule's
    choice; expected_score_se: per model, the standard error of expected_score; baseline: the best
    single model for this alpha (-1 when none is allowed), deviated: True when the decision is not
    the baseline, gain and gain_lcb: the rule's choice's estimated utility gain over the baseline
    and that gain minus `safety` standard errors of it.
    ``int(e)`` and ``operator.index(e)`` give the model, so ``r.models[e]`` works."""

    __slots__ = ("model", "model_name", "n_models", "n_feasible", "ranked", "ranked_scores",
                 "model_scores", "expected_score", "expected_cost", "clusters", "cluster_sims",
                 "cluster_weights", "cluster_support", "best_similarity", "support", "guarded",
                 "expected_score_se", "baseline", "deviated", "gain", "gain_lcb")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw[k])

    def __int__(self):
        return self.model

    __index__ = __int__

    def __repr__(self):
        return "<RouteExplanation model=%d (%s) feasible=%d clusters=%s guarded=%s>" % (
            self.model, self.model_name, self.n_feasible, list(self.clusters), self.guarded)


#: The same type under the name the other bindings use.
RouteResult = RouteExplanation


_encode = _args.cstring
_path = _args.path


def _names_array(models):
    models = list(models)
    enc = [_encode(m, "model name %d" % i) for i, m in enumerate(models)]
    arr = (ctypes.c_char_p * max(len(enc), 1))(*enc)
    return arr, len(enc)


class _Handle:
    """Owns a C handle: freed by close(), by the context manager, or by the finaliser
    (weakref.finalize, which also runs at interpreter exit), exactly once."""

    _free = None  # name of the av_*_free function

    def _adopt(self, handle):
        self._h = handle
        self._finalizer = weakref.finalize(self, getattr(_native, self._free), handle)

    @property
    def _handle(self):
        h = getattr(self, "_h", None)
        if not h:
            raise ValueError("%s is closed" % type(self).__name__)
        return h

    @property
    def closed(self):
        return not getattr(self, "_h", None)

    def close(self):
        """Free the C object now. Further calls raise ValueError. Idempotent. Must not race with
        calls on the same object from other threads."""
        fin = getattr(self, "_finalizer", None)
        self._h = None
        if fin is not None:
            fin()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class Router(_Handle):
    """A loaded or trained router (av_router).

    Routing (route, route_batch) and profile_update may be called from many threads at once; the
    library does not hold the GIL-equivalent lock (ctypes releases the GIL during each call).
    """

    _free = "av_router_free"

    def __init__(self, *args, **kwargs):
        # Routers only come from the library: wrapping an arbitrary integer as a handle could
        # crash the process, so there is no public constructor.
        raise TypeError("use Router.load, Router.from_bytes, Router.from_parts or Builder.fit")

    @classmethod
    def _wrap(cls, handle):
        if not handle:
            raise error_for(-2, "the library returned no router")
        obj = cls.__new__(cls)
        obj._adopt(handle)
        obj._models = None
        return obj

    # ---- construction ----------------------------------------------------------------------
    @classmethod
    def load(cls, path, mapped=False):
        """Load a router file (docs/FORMAT.md). mapped=True (experimental, av_router_load_mapped):
        the file is mapped read-only and its centroid values used in place, so that processes
        loading the same file share its pages; same checks, same router. The file must then not be
        truncated or written in place while the router lives (a save replaces it safely)."""
        h = ctypes.c_void_p()
        fn = _native.av_router_load_mapped if mapped else _native.av_router_load
        _native.check(fn(ctypes.byref(h), _path(path)))
        return cls._wrap(h.value)

    @classmethod
    def from_bytes(cls, data):
        """Load a router from the bytes that :meth:`to_bytes` (av_router_save_buffer) produced."""
        buf = memoryview(data).cast("B")
        arr = (ctypes.c_char * len(buf)).from_buffer_copy(buf) if buf.readonly else \
            (ctypes.c_char * len(buf)).from_buffer(buf)
        h = ctypes.c_void_p()
        _native.check(_native.av_router_load_buffer(ctypes.byref(h), ctypes.addressof(arr), len(buf)))
        return cls._wrap(h.value)

    @classmethod
    def from_parts(cls, centroids, counts, sum_scores, sum_costs, models, top_p=4):
        """A router from parts computed elsewhere (av_router_from_parts).

        centroids: (n_clusters, dim) float32; counts, sum_scores, sum_costs: (n_clusters,
        n_models) float64, cluster-major; models: n_models names. Inputs of another dtype or
        layout are converted once.
        """
        c = np.asarray(centroids)
        if c.ndim != 2:
            raise ValueError("centroids must be 2-D (n_clusters, dim), got shape %s" % (c.shape,))
        k, d = c.shape
        names, m = _names_array(models)
        cp, c_own = _arrays.contiguous(c, _arrays.F32, (k, d), "centroids")
        f64 = np.dtype(np.float64)
        np_, n_own = _arrays.contiguous(counts, f64, (k, m), "counts")
        sp, s_own = _arrays.contiguous(sum_scores, f64, (k, m), "sum_scores")
        qp, q_own = _arrays.contiguous(sum_costs, f64, (k, m), "sum_costs")
        h = ctypes.c_void_p()
        top_p = _args.integer(top_p, "top_p", "uint32_t")
        _native.check(_native.av_router_from_parts(ctypes.byref(h), d, k, m, names, cp, np_, sp, qp,
                                                   top_p))
        return cls._wrap(h.value)

    # ---- persistence -----------------------------------------------------------------------
    def __reduce__(self):
        """Pickling (multiprocessing, Dask) ships the router file's bytes; the copy is an
        independent router."""
        return (Router.from_bytes, (self.to_bytes(),))

    def save(self, path):
        """Write the router atomically (temporary file, fsync, rename)."""
        _native.check(_native.av_router_save(self._handle, _path(path)))

    def to_bytes(self):
        """The router file's bytes (av_router_save_buffer)."""
        data = ctypes.c_void_p()
        size = ctypes.c_size_t()
        _native.check(_native.av_router_save_buffer(self._handle, ctypes.byref(data),
                                                    ctypes.byref(size)))
        try:
            return ctypes.string_at(data.value, size.value)
        finally:
            _native.av_free(data)

    # ---- introspection ---------------------------------------------------------------------
    @property
    def dim(self):
        return int(_native.av_router_dim(self._handle))

    @property
    def n_clusters(self):
        """All clusters, of every member of an ensemble."""
        return int(_native.av_router_n_clusters(self._handle))

    @property
    def members(self):
        """Clusterings in the router's ensemble (av_router_members); 1 for the paper's router."""
        return int(_native.av_router_members(self._handle))

    @property
    def n_models(self):
        return int(_native.av_router_n_models(self._handle))

    @property
    def models(self):
        """Model names, in index order (a tuple)."""
        if self._models is None:
            h = self._handle
            self._models = tuple(_args.text(_native.av_router_model_name(h, i))
                                 for i in range(_native.av_router_n_models(h)))
        return self._models

    def model_index(self, name):
        """Index of the model called name (ModelError if none)."""
        return _native.check(int(_native.av_router_model_index(self._handle,
                                                                _encode(name, "model name"))))

    def _model(self, model, ctype="int32_t"):
        """A model given by name or index, as the C call's model argument (int32_t or size_t)."""
        if isinstance(model, (str, bytes)):
            return self.model_index(model)
        return _args.integer(model, "model", ctype)

    @property
    def top_p(self):
        """The number of clusters av_route sums over. Settable (av_router_set_top_p): set it
        before sharing the router between threads."""
        return int(_native.av_router_top_p(self._handle))

    @top_p.setter
    def top_p(self, value):
        _native.check(_native.av_router_set_top_p(self._handle, _args.integer(value, "top_p", "uint32_t")))

    @property
    def simd_backend(self):
        return _native.av_router_simd_backend(self._handle).decode()

    @property
    def metadata(self):
        """A dict copy of the metadata stored in the router (training options, seed, ...)."""
        h = self._handle
        out = {}
        k, v = ctypes.c_char_p(), ctypes.c_char_p()
        for i in range(_native.av_router_meta_count(h)):
            _native.check(_native.av_router_meta_at(h, i, ctypes.byref(k), ctypes.byref(v)))
            out[_args.text(k.value)] = _args.text(v.value)
        return out

    def set_meta(self, key, value):
        """Store a metadata entry (set it before sharing the router between threads)."""
        _native.check(_native.av_router_set_meta(self._handle, _encode(key, "key"),
                                                 _encode(value, "value")))

    def centroid(self, j):
        """Centroid j as a float32 array (dequantised for f16/int8 routers)."""
        d = self.dim
        out = np.empty(d, dtype=np.float32)
        j = _args.integer(j, "cluster", "size_t")
        _native.check(_native.av_router_get_centroid(self._handle, j, out.ctypes.data, d))
        return out

    def centroids(self):
        """Every centroid, (n_clusters, dim) float32."""
        return np.stack([self.centroid(j) for j in range(self.n_clusters)])

    def cluster_stats(self, j, i):
        """(count, sum_score, sum_cost) of model i (index or name) in cluster j."""
        n, s, c = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        j, i = _args.integer(j, "cluster", "size_t"), self._model(i, "size_t")
        _native.check(_native.av_router_cluster_stats(self._handle, j, i,
                                                      ctypes.byref(n), ctypes.byref(s),
                                                      ctypes.byref(c)))
        return n.value, s.value, c.value

    # ---- routing and feedback --------------------------------------------------------------
    def route(self, embedding, alpha):
        """The model index for one embedding (av_route). A float32 contiguous vector is passed
        without copying; anything else is converted once."""
        p, d, own = _arrays.vector(embedding)
        return _native.check(int(_native.av_route(self._handle, p, d, float(alpha))))

    def route_batch(self, embeddings, alpha, errors="raise"):
        """Model indices (int32 array) for every row of embeddings (av_route_batch).

        Rows must be contiguous float32 to avoid a copy; the row stride may exceed the dimension
        (views like ``big[:, :d]`` or ``big[::2]`` are passed as they are). With errors="raise" a
        bad row raises the first row's error, with the per-row results in ``exc.models``;
        with errors="return" bad rows hold their negative AV_E* code.
        """
        if errors not in ("raise", "return"):
            raise ValueError("errors must be 'raise' or 'return'")
        p, n, d, stride, own = _arrays.matrix(embeddings, name="embeddings")
        out = np.empty(n, dtype=np.int32)
        if n == 0:
            return out
        rc = _native.av_route_batch(self._handle, p, n, d, stride, float(alpha), out.ctypes.data)
        if rc < 0 and errors == "raise":
            exc = error_for(int(rc), _native.last_error())
            exc.models = out
            raise exc
        return out

    def profile_update(self, embedding, model, score, cost, *, half_life=None, top_p=None,
                       weighting=None, temperature=None, weight=None):
        """Record that sending this query to model (index or name) scored score at cost
        (av_profile_update). With any option set it is av_profile_update_ex: half_life (decay of
        all evidence, in updates), top_p (spread over that many nearest clusters), weighting
        ("hard"/"softmax") and temperature for the spread, weight (of this outcome)."""
        p, d, own = _arrays.vector(embedding)
        model = self._model(model)
        opts = dict(half_life=half_life, top_p=top_p, weighting=weighting,
                    temperature=temperature, weight=weight)
        if all(v is None for v in opts.values()):
            _native.check(_native.av_profile_update(self._handle, p, d, model,
                                                    float(score), float(cost)))
            return
        o = _structs.init(_structs.UpdateOptions)
        if half_life is not None:
            o.half_life = float(half_life)
        if top_p is not None:
            o.top_p = _args.integer(top_p, "top_p", "uint32_t")
        if weighting is not None:
            o.weighting = _weighting(weighting)
        if temperature is not None:
            o.temperature = float(temperature)
        if weight is not None:
            o.weight = float(weight)
        _native.check(_native.av_profile_update_ex(self._handle, p, d, model,
                                                   float(score), float(cost), ctypes.byref(o)))

    # ---- beyond the paper: per-request options, estimator, budgets, online learning ----------
    def route_ex(self, embedding, alpha=0.5, *, top_p=None, weighting=None, temperature=None,
                 kappa=None, max_expected_cost=None, min_expected_score=None, guard=None,
                 guard_margin=None, model_mask=None, embedder_id=None, explore_seed=None,
                 normalisation=None, safety=None, explain=False):
        """Route with per-request options (av_route_ex). Unset options take the router's
        defaults; with none set the decision equals route(). model_mask: booleans per model, or
        a collection of model names/indices allowed. weighting: "router", "hard", "softmax".
        normalisation: "router", "cluster" (the paper) or "global".
        guard: True/False forces the guard on/off. safety: safe deviation from the best single
        model in standard errors (>= 0, inf allowed) instead of the router's. explore_seed:
        Thompson sampling with that seed. Returns a RouteExplanation (always: .model is the index, .model_name its name;
        explain is accepted for old callers and changes nothing). NoModelError when no model
        satisfies the mask and limits."""
        o = _structs.init(_structs.RouteOptions)
        o.alpha = float(alpha)
        if top_p is not None:
            o.top_p = _args.integer(top_p, "top_p", "uint32_t")
        if weighting is not None:
            o.weighting = _weighting(weighting)
        if temperature is not None:
            o.temperature = float(temperature)
        if kappa is not None:
            o.kappa = float(kappa)
        if max_expected_cost is not None:
            o.flags |= _ROUTE_MAX_COST
            o.max_expected_cost = float(max_expected_cost)
        if min_expected_score is not None:
            o.flags |= _ROUTE_MIN_SCORE
            o.min_expected_score = float(min_expected_score)
        if guard is not None:
            o.flags |= _ROUTE_GUARD_ON if guard else _ROUTE_GUARD_OFF
        if guard_margin is not None:
            o.guard_margin = float(guard_margin)
        if normalisation is not None:
            o.normalisation = _normalisation(normalisation)
        if safety is not None:
            o.flags |= _decls.AV_ROUTE_SAFETY
            o.safety = float(safety)
        if explore_seed is not None:
            o.flags |= _ROUTE_EXPLORE
            o.explore_seed = _args.integer(explore_seed, "explore_seed", "uint64_t")
        keep = []
        if model_mask is not None:
            mask = self._mask(model_mask)
            keep.append(mask)
            o.model_mask, o.model_mask_len = mask.ctypes.data, mask.shape[0]
        if embedder_id is not None:
            keep.append(_encode(embedder_id, "embedder_id"))
            o.embedder_id = keep[-1]
        p, d, own = _arrays.vector(embedding)
        m = self.n_models
        cap = min(self.n_clusters, _decls.AV_MAX_TOP_P)  # no decision uses more clusters
        arr = dict(ranked=np.full(m, -1, np.int32), ranked_scores=np.zeros(m),
                   model_scores=np.zeros(m), expected_score=np.zeros(m),
                   expected_cost=np.zeros(m), expected_score_se=np.zeros(m),
                   clusters=np.zeros(cap, np.uint32),
                   cluster_sims=np.zeros(cap, np.float32), cluster_weights=np.zeros(cap),
                   cluster_support=np.zeros(cap))
        res = _structs.init(_structs.RouteResult)
        for k, a in arr.items():
            setattr(res, k, a.ctypes.data)
        res.ranked_cap, res.models_cap, res.clusters_cap = m, m, cap
        model = _native.check(int(_native.av_route_ex(self._handle, p, d, ctypes.byref(o),
                                                      ctypes.byref(res))))
        nc, nr = min(res.n_clusters, cap), res.n_ranked
        return RouteExplanation(
            model=model, model_name=self.models[model], n_models=int(res.n_models),
            n_feasible=int(res.n_feasible), ranked=arr["ranked"][:nr],
            ranked_scores=arr["ranked_scores"][:nr], model_scores=arr["model_scores"],
            expected_score=arr["expected_score"], expected_cost=arr["expected_cost"],
            clusters=arr["clusters"][:nc], cluster_sims=arr["cluster_sims"][:nc],
            cluster_weights=arr["cluster_weights"][:nc],
            cluster_support=arr["cluster_support"][:nc],
            best_similarity=_args.float32_as_given(res.best_similarity),
            support=float(res.support), guarded=bool(res.guarded),
            expected_score_se=arr["expected_score_se"], baseline=int(res.baseline),
            deviated=bool(res.deviated), gain=float(res.gain), gain_lcb=float(res.gain_lcb))

    def _mask(self, model_mask):
        """The uint8_t mask (0 or 1 per model) for av_route_ex: from one boolean per model, or
        from the names/indices of the allowed models. An index outside [0, n_models) is a
        ModelError (never a negative index counted from the end), a boolean mask of the wrong
        length a ValueError."""
        m = self.n_models
        if isinstance(model_mask, (str, bytes)):
            model_mask = [model_mask]
        items = list(model_mask)
        bools = [isinstance(x, (bool, np.bool_)) for x in items]
        if items and all(bools) or getattr(model_mask, "dtype", None) == np.bool_:
            if len(items) != m:
                raise ValueError("model_mask: %d booleans for %d models" % (len(items), m))
            return np.array(items, dtype=np.uint8)
        if any(bools):
            raise TypeError("model_mask mixes booleans with model names or indices")
        mask = np.zeros(m, dtype=np.uint8)
        for x in items:
            i = self.model_index(x) if isinstance(x, (str, bytes)) else _args.index(x, "model_mask")
            if not 0 <= i < m:
                raise error_for(-10, "model_mask: model index %d is out of range (the router has "
                                     "%d models)" % (i, m))
            mask[i] = 1
        return mask

    @property
    def estimator(self):
        """The router's estimator defaults (av_router_get_estimator) as a dict."""
        e = _structs.init(_structs.EstimatorOptions)
        _native.check(_native.av_router_get_estimator(self._handle, ctypes.byref(e)))
        return {"kappa": e.kappa, "weighting": _WEIGHTING_NAMES.get(e.weighting, e.weighting),
                "temperature": _args.float32_as_given(e.temperature), "guard": bool(e.guard), "guard_margin": e.guard_margin,
                "normalisation": _NORMALISATION_NAMES.get(e.normalisation, e.normalisation),
                "safety": e.safety}

    def set_estimator(self, kappa=None, weighting=None, temperature=None, guard=None,
                      guard_margin=None, normalisation=None, safety=None):
        """Change the estimator defaults (unset ones keep their current value). safety: safe
        deviation from the best single model, in standard errors (0 = the rule alone, inf = the
        best single model per alpha). Set them before sharing the router between threads."""
        e = _structs.init(_structs.EstimatorOptions)
        _native.check(_native.av_router_get_estimator(self._handle, ctypes.byref(e)))
        if kappa is not None:
            e.kappa = float(kappa)
        if weighting is not None:
            e.weighting = _weighting(weighting)
        if temperature is not None:
            e.temperature = float(temperature)
        if guard is not None:
            e.guard = int(bool(guard))
        if guard_margin is not None:
            e.guard_margin = float(guard_margin)
        if normalisation is not None:
            e.normalisation = _normalisation(normalisation)
        if safety is not None:
            e.safety = float(safety)
        _native.check(_native.av_router_set_estimator(self._handle, ctypes.byref(e)))

    def _replay_args(self, embeddings, scores, costs):
        """(emb ptr, n, dim, scores ptr, costs ptr, keepalive) for the budget functions, whose
        embeddings are packed rows and whose scores and costs are float32 (n, n_models)."""
        if embeddings is None:
            return None, 0, self.dim, None, None, ()
        e = np.asarray(embeddings)
        if e.ndim != 2:
            raise ValueError("embeddings must be 2-D")
        ep, e = _arrays.contiguous(e, _arrays.F32, e.shape, "embeddings")
        n, m = e.shape[0], self.n_models
        sp = cp = None
        keep = [e]
        if scores is not None:
            sp, s = _arrays.contiguous(scores, _arrays.F32, (n, m), "scores")
            keep.append(s)
        if costs is not None:
            cp, c = _arrays.contiguous(costs, _arrays.F32, (n, m), "costs")
            keep.append(c)
        return ep, n, e.shape[1], sp, cp, keep

    def expected_mean(self, alpha, embeddings=None, scores=None, costs=None):
        """(mean score, mean cost) per query expected when routing at alpha: over the given
        queries (their scores/costs if given) or, with embeddings None, the training statistics."""
        ep, n, d, sp, cp, keep = self._replay_args(embeddings, scores, costs)
        ms, mc = ctypes.c_double(), ctypes.c_double()
        _native.check(_native.av_router_expected_mean(self._handle, float(alpha), ep, n, d, sp, cp,
                                                      ctypes.byref(ms), ctypes.byref(mc)))
        return ms.value, mc.value

    def alpha_for_budget(self, budget, embeddings=None, scores=None, costs=None, n_grid=0):
        """Among the alphas of the grid (n_grid points, 0 = 101) whose expected mean cost per query
        is <= budget, the one with the best expected mean score (ties: the cheaper, then the
        smaller alpha); NoModelError when no alpha stays within the budget
        (av_router_alpha_for_budget)."""
        ep, n, d, sp, cp, keep = self._replay_args(embeddings, scores, costs)
        a = ctypes.c_float()
        _native.check(_native.av_router_alpha_for_budget(self._handle, float(budget), ep, n, d, sp,
                                                         cp, _args.integer(n_grid, "n_grid", "uint32_t"),
                                                         ctypes.byref(a)))
        return _args.float32_as_given(a.value)

    def alpha_for_accuracy(self, target, embeddings=None, scores=None, costs=None, n_grid=0):
        """The cheapest alpha whose expected mean score is >= target (NoModelError if none)."""
        ep, n, d, sp, cp, keep = self._replay_args(embeddings, scores, costs)
        a = ctypes.c_float()
        _native.check(_native.av_router_alpha_for_accuracy(self._handle, float(target), ep, n, d,
                                                           sp, cp, _args.integer(n_grid, "n_grid", "uint32_t"),
                                                           ctypes.byref(a)))
        return _args.float32_as_given(a.value)

    def alpha_for_share(self, models, share, embeddings=None, n_grid=0):
        """Calibration for a share of calls (RouteLLM's strong-model percentage): the smallest
        alpha of the grid at which `models` (names or indices) receive at least `share` of the
        queries (of `embeddings`, or of the training statistics when None); when no alpha reaches
        it, the alpha with the closest share. Returns (alpha, the share at that alpha)
        (av_router_alpha_for_share)."""
        mask = self._mask(models)
        ep, n, d, _, _, keep = self._replay_args(embeddings, None, None)
        a, got = ctypes.c_float(), ctypes.c_double()
        _native.check(_native.av_router_alpha_for_share(
            self._handle, mask.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), mask.shape[0],
            float(share), ep, n, d, _args.integer(n_grid, "n_grid", "uint32_t"),
            ctypes.byref(a), ctypes.byref(got)))
        return _args.float32_as_given(a.value), got.value

    def add_model(self, name, prior_score, prior_cost, prior_weight=1.0):
        """Add a model (av_router_add_model) that starts from a prior in every cluster; returns its
        index. Safe while other threads route."""
        i = _native.check(int(_native.av_router_add_model(self._handle, _encode(name, "model name"),
                                                          float(prior_score), float(prior_cost),
                                                          float(prior_weight))))
        self._models = None
        return i

    def set_price(self, model, cost_per_query=None, *, input_price=None, output_price=0.0,
                  input_tokens=None, output_tokens=0.0):
        """Set a model's price without retraining (av_router_set_price, experimental): either
        cost_per_query, or input_price (and output_price) per token with the model's mean
        input_tokens (and output_tokens) per query. Every cost the router learned for the model is
        multiplied by new / old (old: the price set before, else the model's mean cost per query),
        and the price is saved with the router. Returns that factor (NaN when the model had no
        cost, whose costs become count x new). Safe while other threads route."""
        p = _structs.init(_structs.Price)
        if (cost_per_query is None) == (input_price is None):
            raise ValueError("give either cost_per_query or input_price (per token)")
        if cost_per_query is not None:
            p.unit = _decls.AV_PRICE_PER_QUERY
            p.cost_per_query = float(cost_per_query)
        else:
            if input_tokens is None:
                raise ValueError("a price per token needs input_tokens (the mean per query)")
            p.unit = _decls.AV_PRICE_PER_TOKEN
            p.input_price, p.output_price = float(input_price), float(output_price)
            p.input_tokens, p.output_tokens = float(input_tokens), float(output_tokens)
        factor = ctypes.c_double(0.0)
        _native.check(_native.av_router_set_price(self._handle, self._model(model), ctypes.byref(p),
                                                  ctypes.byref(factor)))
        return factor.value

    reprice = set_price

    def get_price(self, model):
        """The model's price as a dict: unit ("per_query", "per_token" or None when none was set),
        cost_per_query (the effective one; with None, the learned mean cost per query) and, per
        token, input_price, output_price, input_tokens, output_tokens."""
        p = _structs.init(_structs.Price)
        _native.check(_native.av_router_get_price(self._handle, self._model(model), ctypes.byref(p)))
        unit = {_decls.AV_PRICE_PER_QUERY: "per_query",
                _decls.AV_PRICE_PER_TOKEN: "per_token"}.get(p.unit)
        d = {"unit": unit, "cost_per_query": p.cost_per_query}
        if unit == "per_token":
            d.update(input_price=p.input_price, output_price=p.output_price,
                     input_tokens=p.input_tokens, output_tokens=p.output_tokens)
        return d

    def merge(self, other):
        """Add other's statistics to this router's (av_profile_merge): same centroids (hash) and
        the same model names in any order, else MismatchError."""
        _native.check(_native.av_profile_merge(self._handle, other._handle))

    @property
    def centroid_hash(self):
        h = _native.av_router_centroid_hash(self._handle)
        return h.decode() if h else None

    @property
    def centroid_type(self):
        """"f32", "f16" or "int8"."""
        t = _native.check(int(_native.av_router_centroid_type(self._handle)))
        return _CENTROID_NAMES.get(t, t)

    def convert(self, centroid_type):
        """A new Router with the centroids re-encoded ("f32", "f16", "int8"); this one is
        unchanged."""
        t = _centroid_type(centroid_type)
        if t > _args.LIMITS["int"][1]:  # av_router_convert takes the enum (an int)
            raise OverflowError("centroid_type = %d is out of range of the C enum" % t)
        h = ctypes.c_void_p()
        _native.check(_native.av_router_convert(ctypes.byref(h), self._handle, t))
        return Router._wrap(h.value)

    # ---- replay evaluation ------------------------------------------------------------------
    def evaluate(self, embeddings, scores, costs, models=None, alphas=None, top_p=None,
                 target_fraction=None, rows=None):
        """Replay evaluation (av_eval_run / av_eval_run_rows): every query routed for every
        alpha (default 0, 0.05, ..., 1) and scored with its recorded outcome; single models and
        the oracle alongside. scores and costs are (n, n_columns), NaN = no outcome, columns
        named by models (None: the router's models in order). float32 embeddings with
        contiguous rows, and float32 or float64 C-contiguous scores/costs, are not copied.
        Returns an Evaluation."""
        rp, keep = _eval.replay(self, embeddings, scores, costs, models)
        opts, akeep = _eval.options(alphas, top_p, target_fraction)
        return _eval.run(self._handle, rp, opts, rows)

    def subset_auc(self, embeddings, scores, costs, rows, models=None, alphas=None, top_p=None):
        """Only the area under the accuracy-cost curve on the given rows (av_eval_subset_auc)."""
        rp, keep = _eval.replay(self, embeddings, scores, costs, models)
        opts, akeep = _eval.options(alphas, top_p)
        return _eval.subset_auc(self._handle, rp, opts, rows)

    def __repr__(self):
        if self.closed:
            return "<avengers.Router closed>"
        return "<avengers.Router dim=%d n_clusters=%d models=%d top_p=%d>" % (
            self.dim, self.n_clusters, self.n_models, self.top_p)


class Builder(_Handle):
    """Training data for a router (av_builder): rows of (embedding, per-model scores, per-model
    costs), NaN meaning "no outcome for that model"; fit() clusters and returns a Router."""

    _free = "av_builder_free"

    def __init__(self, dim, models):
        models = list(models)
        names, m = _names_array(models)
        dim = _args.integer(dim, "dim", "size_t")
        h = ctypes.c_void_p()
        _native.check(_native.av_builder_new(ctypes.byref(h), dim, m, names))
        self._adopt(h.value)
        self.dim = dim
        self.models = tuple(_args.text(bytes(m)) if isinstance(m, (bytes, bytearray)) else m
                            for m in models)

    def add(self, embedding, scores, costs):
        """Add one training row (the embedding is copied and normalised by the library)."""
        m = len(self.models)
        p, d, own = _arrays.vector(embedding)
        sp, s_own = _arrays.contiguous(np.asarray(scores, dtype=np.float32), _arrays.F32, (m,), "scores")
        cp, c_own = _arrays.contiguous(np.asarray(costs, dtype=np.float32), _arrays.F32, (m,), "costs")
        _native.check(_native.av_builder_add(self._handle, p, d, sp, cp))

    def add_many(self, embeddings, scores, costs):
        """Add n rows: embeddings (n, dim), scores and costs (n, n_models). float32 inputs with
        contiguous rows are read in place; others are converted once. On a bad row, the rows
        before it stay added and the exception's ``row`` says which one failed."""
        h = self._handle
        ep, n, d, es, e_own = _arrays.matrix(embeddings, name="embeddings")
        sp, sn, sm, ss, s_own = _arrays.matrix(scores, name="scores")
        cp, cn, cm, cs, c_own = _arrays.matrix(costs, name="costs")
        m = len(self.models)
        if sn != n or cn != n or sm != m or cm != m:
            raise ValueError("scores and costs must be (%d, %d), got %s and %s"
                             % (n, m, (sn, sm), (cn, cm)))
        add = _native.av_builder_add
        for r in range(n):
            rc = add(h, ep + 4 * r * es, d, sp + 4 * r * ss, cp + 4 * r * cs)
            if rc < 0:
                exc = error_for(int(rc), "row %d: %s" % (r, _native.last_error()))
                exc.row = r
                raise exc
        return self

    def add_borrowed(self, embeddings, scores, costs):
        """Add n rows without copying them (av_builder_add_borrowed): embeddings (n, dim) and
        scores, costs (n, n_models), read in place by the library until the builder is closed.
        float32 C-contiguous arrays, np.load(path, mmap_mode="r") arrays among them, are used
        as they are (zero-copy); others are converted once and the conversion is kept. The
        builder keeps a reference to every array. A bad row adds nothing."""
        m = len(self.models)
        e = _borrowable(embeddings, 2, "embeddings")
        n = e.shape[0]
        s = _borrowable(scores, 2, "scores")
        c = _borrowable(costs, 2, "costs")
        if e.shape[1] != self.dim and e.size:
            raise ValueError("embeddings must be (n, %d), got %s" % (self.dim, e.shape))
        if s.shape != (n, m) or c.shape != (n, m):
            raise ValueError("scores and costs must be (%d, %d), got %s and %s"
                             % (n, m, s.shape, c.shape))
        _native.check(_native.av_builder_add_borrowed(self._handle, e.ctypes.data, n, self.dim,
                                                      s.ctypes.data, c.ctypes.data))
        self.__dict__.setdefault("_borrowed", []).extend((e, s, c))
        return self

    def add_source(self, n_rows, read, block_rows=None, concurrent=False):
        """Add n_rows rows read through a callback (av_builder_add_source), for logs that are
        not one array in memory (a database cursor, Parquet row groups, a generator):
        read(row0, n) returns (embeddings, scores, costs) for rows [row0, row0 + n) of the
        source, array-likes of shapes (n, dim), (n, n_models), (n, n_models), NaN = no outcome.
        The library reads every row once now (a bad row adds nothing) and keeps only each
        row's norm and a hash per block; fit() reads the blocks again, by random access (with
        algorithm "sampled", on every pass; "full" and tuning copy the rows once), so read must
        return the same values every time: rows that changed raise FileError (AV_EIO). Calls
        come from the fitting threads, one at a time unless concurrent=True (then read must be
        thread-safe). block_rows: rows per call (None: the library's choice). An exception
        raised by read stops the call and is re-raised after the C call has returned (from
        avengers.Cancelled); a wrong shape raises ValueError the same way. The builder keeps
        read until it is closed."""
        n_rows = _args.integer(n_rows, "n_rows", "size_t")
        dim, m = self.dim, len(self.models)
        errors = self.__dict__.setdefault("_source_errors", [])

        def trampoline(user, row0, n, ep, sp, cp):
            try:
                out = read(row0, n)
                if not isinstance(out, tuple) or len(out) != 3:
                    raise ValueError("read(%d, %d) must return (embeddings, scores, costs)"
                                     % (row0, n))
                for a, p, cols, name in zip(out, (ep, sp, cp), (dim, m, m),
                                            ("embeddings", "scores", "costs")):
                    a = np.ascontiguousarray(a, dtype=np.float32)
                    if a.shape != (n, cols):
                        raise ValueError("read(%d, %d): %s must be (%d, %d), got %s"
                                         % (row0, n, name, n, cols, a.shape))
                    ctypes.memmove(p, a.ctypes.data, a.nbytes)
                return 0
            except BaseException as e:  # cannot unwind through C: keep it for later
                if not errors:
                    errors.append(e)
                return 1
        cb = _decls.av_row_source_read_fn(trampoline)
        src = _structs.init(_structs.RowSource)
        src.n_rows = n_rows
        src.dim = dim
        src.read = cb
        if block_rows is not None:
            src.block_rows = _args.integer(block_rows, "block_rows", "size_t")
        if concurrent:
            src.flags = _decls.AV_ROW_SOURCE_CONCURRENT
        self._call_with_sources(_native.av_builder_add_source, self._handle, ctypes.byref(src))
        self.__dict__.setdefault("_sources", []).append(cb)
        return self

    def _call_with_sources(self, fn, *args, raised=None):
        """fn(*args) for a call that may read the builder's sources: an exception of a source's
        read (or of a progress callback, in raised) is re-raised from the call's error."""
        errors = self.__dict__.setdefault("_source_errors", [])
        del errors[:]
        rc = fn(*args)
        if rc < 0:
            pending = (raised or []) + errors
            del errors[:]
            try:
                _native.check(rc)
            except Error as e:
                if pending:  # the callback's own exception, after the C frame has returned
                    raise pending[0] from e
                raise
        return rc

    tune_best_auc = None

    @staticmethod
    def _tune_options(tune, keep):
        return _tune_options_impl(tune, keep)

    @property
    def n_rows(self):
        return int(_native.av_builder_n_rows(self._handle))

    def __len__(self):
        return self.n_rows

    @property
    def inertia(self):
        """Inertia of the last successful fit, or None."""
        v = _native.av_builder_inertia(self._handle)
        return None if v < 0 else v

    def fit(self, n_clusters=None, top_p=None, n_init=None, max_iter=None, tol=None, seed=None,
            centroid_type=None, verbose=None, embedder_id=None, progress=None, tune=None,
            members=None, algorithm=None, sample_size=None, max_passes=None,
            pass_progress=None, tune_progress=None):
        """Cluster the rows and compute the profiles (av_builder_fit). Unset options keep the
        library's defaults (av_fit_options_init: 60 clusters, top_p 4, 10 restarts, 300
        iterations, tol 1e-4, seed 42, f32 centroids). centroid_type: "f32", "f16", "int8" or
        the av_centroid_type number. progress(restart, n_init, iteration, inertia) is called from
        the fitting thread; an exception it raises is re-raised after the fit returns.
        tune: cross-validated choice of the settings (av_tune_options): "default" for the
        library's grid, or a dict with lists n_clusters, members, top_p, kappa, temperatures and
        scalars n_folds, n_alphas, n_init, guard, guard_margin, global_normalisation, halving
        ("auto", "off" or eta 2..16: successive halving), halving_min_rows and
        shared_clustering ("auto", "off" or "on": one k-means per rung and k, each fold's
        statistics from its training rows; automatic above 40,000 rows). The winner's
        AUC (the router's metadata tuned_cv_auc) is then in self.tune_best_auc too, and the choice
        in the metadata (tuned_*).
        tune_progress(p), with tune: called on the fitting thread before each fold's router is
        fitted, after its candidates are scored and before the winner is fitted on all rows, with
        a TuneProgress (stage "fit", "scored" or "final", fold, n_folds, n_clusters, fits_done,
        n_fits, scores_done, n_scores, n_candidates). Returning True cancels the tuning at once
        (avengers.Cancelled, AV_ECANCELED); an exception it raises cancels too and is re-raised
        after the C call has returned (never across the C frame), from the Cancelled error.
        members: an ensemble of that many clusterings (1, the default, is the paper's).
        algorithm: "auto" (default: "full" up to AV_KMEANS_AUTO_MAX_ROWS rows, "sampled" above),
        "full" or "sampled" (docs/SCALING.md, "Training on large logs"); sample_size and
        max_passes tune "sampled" (0 or None: the library's defaults). pass_progress(p) receives
        a dict (stage "sample", "pass" or "stats", member, members, pass, max_passes, n_rows,
        sample_rows, inertia, shift, shift_tol, elapsed, eta in seconds, and rows_searched with a
        1.4 library: the rows' worth of searches among all clusters the pass made) from the fitting
        thread; an exception it raises is re-raised after the fit returns."""
        opts = _default_fit_options()
        for name, val in _fit_option_values(dict(
                n_clusters=n_clusters, top_p=top_p, n_init=n_init, max_iter=max_iter, seed=seed,
                verbose=verbose, members=members, tol=tol, centroid_type=centroid_type,
                algorithm=algorithm, sample_size=sample_size, max_passes=max_passes)):
            setattr(opts, name, val)
        keep = []
        if embedder_id is not None:
            keep.append(_encode(embedder_id, "embedder_id"))
            opts.embedder_id = keep[-1]
        raised = []
        if progress is not None:
            def trampoline(user, restart, n_init_, iteration, inertia):
                try:
                    progress(restart, n_init_, iteration, inertia)
                except BaseException as e:  # cannot unwind through C: keep it for later
                    if not raised:
                        raised.append(e)
            cb = _native.PROGRESS_FN(trampoline)
            keep.append(cb)
            opts.progress = cb
            if verbose is None:
                opts.verbose = 1  # the library calls progress() only when verbose is set
        if pass_progress is not None:
            def pass_trampoline(user, p):
                try:
                    q = ctypes.cast(p, ctypes.POINTER(_decls.av_fit_progress)).contents
                    # only the fields the library filled: an older library fills fewer
                    T = _decls.av_fit_progress
                    d = {f[0]: getattr(q, f[0]) for f in q._fields_
                         if f[0] != "struct_size" and
                         getattr(T, f[0]).offset + getattr(T, f[0]).size <= q.struct_size}
                    d["stage"] = _FIT_STAGES.get(d["stage"], d["stage"])
                    pass_progress(d)
                except BaseException as e:  # cannot unwind through C: keep it for later
                    if not raised:
                        raised.append(e)
            pcb = _decls.av_fit_options_pass_progress_fn(pass_trampoline)
            keep.append(pcb)
            opts.pass_progress = pcb
        tune_opts = None
        if tune_progress is not None and tune is None:
            raise ValueError("tune_progress needs tune")
        if tune is not None:
            tune_opts = self._tune_options(tune, keep)
            opts.tune = ctypes.addressof(tune_opts)
            if tune_progress is not None:
                tune_opts.progress = _tune_trampoline(tune_progress, raised, keep)
        h = ctypes.c_void_p()
        self._call_with_sources(_native.av_builder_fit, self._handle, ctypes.byref(opts),
                                ctypes.byref(h), raised=raised)
        router = Router._wrap(h.value)
        if tune_opts is not None:
            # options are inputs only: the winner's AUC is the metadata tuned_cv_auc (%.17g)
            auc = _native.av_router_meta(router._handle, b"tuned_cv_auc")
            self.tune_best_auc = float(auc) if auc is not None else None
        if raised:
            router.close()
            raise raised[0]
        return router


#: what a tuning progress callback receives (av_tune_progress; stage "fit", "scored" or "final")
TuneProgress = collections.namedtuple(
    "TuneProgress", ["stage", "fold", "n_folds", "n_clusters", "fits_done", "n_fits",
                     "scores_done", "n_scores", "n_candidates"])
_TUNE_STAGES = {0: "fit", 1: "scored", 2: "final"}


def _tune_trampoline(fn, raised, keep):
    """The C callback for av_tune_options.progress: fn(TuneProgress); True or an exception
    cancels (non-zero return). The exception is kept in raised, never passed through C."""
    def trampoline(user, p):
        try:
            c = ctypes.cast(p, ctypes.POINTER(_decls.av_tune_progress)).contents
            tp = TuneProgress(_TUNE_STAGES.get(c.stage, c.stage), c.fold, c.n_folds, c.n_clusters,
                              c.fits_done, c.n_fits, c.scores_done, c.n_scores, c.n_candidates)
            return 1 if fn(tp) is True else 0
        except BaseException as e:  # cannot unwind through C: keep it for later, and cancel
            if not raised:
                raised.append(e)
            return 1
    cb = _decls.av_tune_options_progress_fn(trampoline)
    keep.append(cb)
    return cb


def _tune_options_impl(tune, keep):
    t = _structs.init(_structs.TuneOptions)
    if isinstance(tune, str):
        if tune != "default":
            raise ValueError('tune must be "default" or a dict')
        _native.av_tune_options_default_grid(ctypes.byref(t))
        return t
    lists = {"n_clusters": (np.uint32, "n_n_clusters"), "top_p": (np.uint32, "n_top_p"),
             "kappa": (np.float64, "n_kappa"), "temperatures": (np.float32, "n_temperatures"),
             "members": (np.uint32, "n_members"), "safety": (np.float64, "n_safety")}
    for k, v in tune.items():
        if k in lists:
            dt, count = lists[k]
            if dt == np.uint32:
                a = _args.integers(v, "tune[%r]" % k, "uint32_t", dt)
            else:
                a = np.ascontiguousarray(v, dtype=dt).ravel()
            keep.append(a)
            setattr(t, k, a.ctypes.data)
            setattr(t, count, a.shape[0])
        elif k in ("n_folds", "n_alphas", "n_init", "guard", "global_normalisation"):
            setattr(t, k, _args.integer(v, "tune[%r]" % k, "uint32_t"))
        elif k == "halving":
            # "auto" (0, the default), "off" (1) or eta (2..AV_TUNE_MAX_ETA)
            words = {"auto": 0, "off": 1}
            t.halving = words[v] if isinstance(v, str) and v in words else \
                _args.integer(v, "tune['halving']", "uint32_t")
        elif k == "halving_min_rows":
            t.halving_min_rows = _args.integer(v, "tune['halving_min_rows']", "size_t")
        elif k == "shared_clustering":
            # "auto" (0, the default), "off" (1) or "on" (2): one clustering per rung and k
            words = {"auto": 0, "off": 1, "on": 2}
            t.shared_clustering = words[v] if isinstance(v, str) and v in words else \
                _args.integer(v, "tune['shared_clustering']", "uint32_t")
        elif k == "objective":
            names = {"auc": 0, "accuracy": 1, "costsave": 2}
            if v not in names:
                raise ValueError("tune['objective'] must be one of %s" % ", ".join(names))
            t.objective = names[v]
        elif k == "target_fraction":
            t.target_fraction = float(v)
        elif k == "guard_margin":
            t.guard_margin = float(v)
        else:
            raise TypeError("unknown tune option %r" % k)
    return t


_ALGORITHMS = {"auto": 0, "full": 1, "sampled": 2}
_FIT_STAGES = {0: "sample", 1: "pass", 2: "stats"}


def _fit_option_values(values):
    """(field, value) pairs of av_fit_options for the set (not None) numeric fit options."""
    out = []
    for name, val in values.items():
        if val is None:
            continue
        if name == "tol":
            out.append((name, float(val)))
        elif name == "centroid_type":
            out.append((name, _centroid_type(val)))
        elif name == "algorithm":
            out.append((name, _named(_ALGORITHMS, val, "algorithm")))
        elif name in ("n_clusters", "top_p", "n_init", "max_iter", "verbose", "members",
                      "sample_size", "max_passes"):
            out.append((name, _args.integer(val, name, "uint32_t")))
        elif name == "seed":
            out.append((name, _args.integer(val, name, "uint64_t")))
        else:
            raise TypeError("unknown fit option %r" % name)
    return out


def _borrowable(x, ndim, name):
    """x as a C-contiguous float32 array (as it is when it already is one: no copy)."""
    a = np.asarray(x)
    if a.ndim != ndim:
        raise ValueError("%s must be %d-D, got shape %s" % (name, ndim, a.shape))
    if a.dtype != np.float32 or not a.flags.c_contiguous or not a.flags.aligned:
        a = np.ascontiguousarray(a, dtype=np.float32)
    return a


def _default_fit_options():
    """av_fit_options with the library's defaults (av_fit_options_init_sized with this binding's
    sizeof)."""
    return _structs.init(_structs.FitOptions)
