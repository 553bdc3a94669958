"""Router and Builder: thin, safe wrappers over av_router / av_builder handles."""
import ctypes
import os
import weakref

import numpy as np

from . import _arrays, _native
from ._errors import error_for

_CENTROID_TYPES = {"f32": 0, "f16": 1, "int8": 2}


def _encode(s, what):
    if isinstance(s, bytes):
        return s
    if not isinstance(s, str):
        raise TypeError("%s must be str, got %s" % (what, type(s).__name__))
    return s.encode("utf-8")


def _path(p):
    return os.fsencode(os.fspath(p))


def _names_array(models):
    models = list(models)
    enc = [_encode(m, "model name") for m in models]
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

    def __init__(self, _handle=None):
        if not _handle:
            raise TypeError("use Router.load, Router.from_bytes, Router.from_parts or Builder.fit")
        self._adopt(_handle)
        self._models = None

    # ---- construction ----------------------------------------------------------------------
    @classmethod
    def load(cls, path):
        """Load a router file (docs/FORMAT.md)."""
        h = ctypes.c_void_p()
        _native.check(_native.av_router_load(ctypes.byref(h), _path(path)))
        return cls(h.value)

    @classmethod
    def from_bytes(cls, data):
        """Load a router from the bytes that :meth:`to_bytes` (av_router_save_buffer) produced."""
        buf = memoryview(data).cast("B")
        arr = (ctypes.c_char * len(buf)).from_buffer_copy(buf) if buf.readonly else \
            (ctypes.c_char * len(buf)).from_buffer(buf)
        h = ctypes.c_void_p()
        _native.check(_native.av_router_load_buffer(ctypes.byref(h), ctypes.addressof(arr), len(buf)))
        return cls(h.value)

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
        _native.check(_native.av_router_from_parts(ctypes.byref(h), d, k, m, names, cp, np_, sp, qp,
                                                   int(top_p)))
        return cls(h.value)

    # ---- persistence -----------------------------------------------------------------------
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
        return int(_native.av_router_n_clusters(self._handle))

    @property
    def n_models(self):
        return int(_native.av_router_n_models(self._handle))

    @property
    def models(self):
        """Model names, in index order (a tuple)."""
        if self._models is None:
            h = self._handle
            self._models = tuple(_native.av_router_model_name(h, i).decode("utf-8")
                                 for i in range(_native.av_router_n_models(h)))
        return self._models

    def model_index(self, name):
        """Index of the model called name (ModelError if none)."""
        return _native.check(int(_native.av_router_model_index(self._handle,
                                                                _encode(name, "model name"))))

    def _model(self, model):
        if isinstance(model, (str, bytes)):
            return self.model_index(model)
        return int(model)

    @property
    def top_p(self):
        """The number of clusters av_route sums over. Settable (av_router_set_top_p): set it
        before sharing the router between threads."""
        return int(_native.av_router_top_p(self._handle))

    @top_p.setter
    def top_p(self, value):
        _native.check(_native.av_router_set_top_p(self._handle, int(value)))

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
            out[k.value.decode("utf-8")] = v.value.decode("utf-8")
        return out

    def set_meta(self, key, value):
        """Store a metadata entry (set it before sharing the router between threads)."""
        _native.check(_native.av_router_set_meta(self._handle, _encode(key, "key"),
                                                 _encode(value, "value")))

    def centroid(self, j):
        """Centroid j as a float32 array (dequantised for f16/int8 routers)."""
        d = self.dim
        out = np.empty(d, dtype=np.float32)
        _native.check(_native.av_router_get_centroid(self._handle, int(j), out.ctypes.data, d))
        return out

    def centroids(self):
        """Every centroid, (n_clusters, dim) float32."""
        return np.stack([self.centroid(j) for j in range(self.n_clusters)])

    def cluster_stats(self, j, i):
        """(count, sum_score, sum_cost) of model i (index or name) in cluster j."""
        n, s, c = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        _native.check(_native.av_router_cluster_stats(self._handle, int(j), self._model(i),
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

    def profile_update(self, embedding, model, score, cost):
        """Record that sending this query to model (index or name) scored score at cost."""
        p, d, own = _arrays.vector(embedding)
        _native.check(_native.av_profile_update(self._handle, p, d, self._model(model),
                                                float(score), float(cost)))

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
        names, m = _names_array(models)
        h = ctypes.c_void_p()
        _native.check(_native.av_builder_new(ctypes.byref(h), int(dim), m, names))
        self._adopt(h.value)
        self.dim = int(dim)
        self.models = tuple(m.decode() if isinstance(m, bytes) else m for m in models)

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
            centroid_type=None, verbose=None, embedder_id=None, progress=None):
        """Cluster the rows and compute the profiles (av_builder_fit). Unset options keep the
        library's defaults (av_fit_options_init: 60 clusters, top_p 4, 10 restarts, 300
        iterations, tol 1e-4, seed 42, f32 centroids). centroid_type: "f32", "f16", "int8" or
        the av_centroid_type number. progress(restart, n_init, iteration, inertia) is called from
        the fitting thread; an exception it raises is re-raised after the fit returns."""
        opts = _default_fit_options()
        for name, val in (("n_clusters", n_clusters), ("top_p", top_p), ("n_init", n_init),
                          ("max_iter", max_iter), ("tol", tol), ("seed", seed),
                          ("verbose", verbose)):
            if val is not None:
                setattr(opts, name, val)
        if centroid_type is not None:
            opts.centroid_type = _CENTROID_TYPES[centroid_type] if isinstance(centroid_type, str) \
                else int(centroid_type)
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
        h = ctypes.c_void_p()
        rc = _native.av_builder_fit(self._handle, ctypes.byref(opts), ctypes.byref(h))
        if rc < 0:
            _native.check(rc)
        router = Router(h.value)
        if raised:
            router.close()
            raise raised[0]
        return router


def _default_fit_options():
    """av_fit_options with the library's defaults. The library may be newer than this binding and
    its struct larger, so av_fit_options_init writes into a generous scratch buffer and only the
    fields this binding knows are copied; struct_size then says how much the library may read."""
    scratch = ctypes.create_string_buffer(1024)
    _native.av_fit_options_init(scratch)
    opts = _native.FitOptions()
    lib_size = ctypes.c_uint32.from_buffer(scratch).value
    ctypes.memmove(ctypes.addressof(opts), scratch, min(ctypes.sizeof(opts), lib_size))
    opts.struct_size = min(ctypes.sizeof(opts), lib_size)
    return opts
