"""Reading the replay files the `avengers` command reads, into the arrays the binding takes.

:func:`load_replay` reads what ``avengers train/eval --data F --embeddings E`` read, with the
command's rules (cli/jsonl.h, cli/npy.h), so that the same files give the same rows and the same
model indices in Python as on the command line:

* JSON Lines, plain or gzip, one query per line, in either format:
  ``avengers`` ``{"scores": {model: x}, "costs": {model: x}, "split": ...}`` or
  ``avengerspro`` ``{"records": {model: x}, "usages": {model: {"cost": x}}}``
  (``format="auto"`` decides from the first line, as the command does);
* the models are the keys of the first line's scores, **sorted by their UTF-8 bytes** (not in the
  order the line lists them); every later line names exactly those models;
* a score is a number or a boolean (true = 1), a cost a number >= 0; null is "no outcome" (NaN),
  and an outcome needs both (a NaN score or cost makes both NaN); non-finite numbers, a key twice
  in one object, and a line that is not one JSON object are errors naming the file and line;
* blank lines are skipped; line numbers count every line;
* embeddings: a ``.npy`` (2-D, C order, float32 or float64, read as float32; plain or gzip), or
  raw little-endian float32 rows with ``dim`` (a .npy given with ``dim`` is refused); its row
  count must equal the number of data lines.
"""
import gzip
import io
import json
import math
import os

import numpy as np

_GZIP_MAGIC = b"\x1f\x8b"
_NPY_MAGIC = b"\x93NUMPY"
_FORMATS = {"avengers": ("scores", "costs"), "avengerspro": ("records", "usages")}


class DataError(ValueError):
    """A replay file the command would refuse too; the message says file, line and what."""


class Replay:
    """A replay read by :func:`load_replay`.

    models: a tuple of names in the command's order (as Router.models); scores, costs: (n, m) float64 with NaN for no outcome;
    split: one string per row (the lines' "split") or None when the lines have none; embeddings:
    (n, dim) float32 or None; lines: the 1-based line number of each row; format: the format read.
    """

    __slots__ = ("models", "scores", "costs", "split", "embeddings", "lines", "format")

    def __init__(self, models, scores, costs, split, embeddings, lines, fmt):
        self.models, self.scores, self.costs, self.split = models, scores, costs, split
        self.embeddings, self.lines, self.format = embeddings, lines, fmt

    def __len__(self):
        return self.scores.shape[0]

    def rows(self, split):
        """Row indices (int64) whose "split" equals split ("train", "test", or any value the
        lines use); "all" gives every row."""
        if split == "all":
            return np.arange(len(self))
        if self.split is None:
            raise DataError("the lines have no \"split\" field: use rows(\"all\") or a random split")
        return np.array([i for i, s in enumerate(self.split) if s == split], dtype=np.int64)

    def select(self, split):
        """(embeddings, scores, costs) of the rows of split, ready for Builder.add_many and
        Router.evaluate."""
        idx = self.rows(split)
        if self.embeddings is None:
            raise DataError("no embeddings were loaded (load_replay(data, embeddings))")
        return self.embeddings[idx], self.scores[idx], self.costs[idx]

    def __repr__(self):
        return "<avengers.Replay rows=%d models=%d format=%s>" % (len(self), len(self.models),
                                                                 self.format)


def _read(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == _GZIP_MAGIC:
        data = gzip.decompress(data)
    return data


def _no_duplicates(where):
    def hook(pairs):
        seen = {}
        for k, v in pairs:
            if k in seen:
                raise DataError("%s: key \"%s\" appears twice in one object" % (where, k))
            seen[k] = v
        return seen
    return hook


def _refuse_constant(where):
    def hook(name):
        raise DataError("%s: %s is not a JSON number" % (where, name))
    return hook


def _value(v, model, is_cost, where):
    if v is None:
        return math.nan
    if isinstance(v, bool):
        if is_cost:
            raise DataError("%s: cost of model '%s' is not a number" % (where, model))
        return 1.0 if v else 0.0
    if not isinstance(v, (int, float)):
        raise DataError("%s: %s of model '%s' is not a number" % (where, "cost" if is_cost else "score", model))
    x = float(v)
    if not math.isfinite(x):
        raise DataError("%s: %s of model '%s' is not a finite number" % (where, "cost" if is_cost else "score", model))
    if is_cost and x < 0:
        raise DataError("%s: cost of model '%s' is negative (%g)" % (where, model, x))
    return x


def _row(obj, key, models, fmt, is_cost, where):
    if not isinstance(obj, dict):
        raise DataError("%s: \"%s\" is missing or not an object" % (where, key))
    extra = [k for k in obj if k not in models]
    if extra:
        raise DataError("%s: unknown model '%s' in \"%s\" (the models are those of line 1)"
                        % (where, extra[0], key))
    out = []
    for name in models:
        if name not in obj:
            raise DataError("%s: model '%s' is missing from \"%s\" (use null for no outcome)"
                            % (where, name, key))
        v = obj[name]
        if is_cost and fmt == "avengerspro":
            if not isinstance(v, dict):
                raise DataError("%s: \"usages\" of model '%s' is not an object" % (where, name))
            if "cost" not in v:
                raise DataError("%s: \"usages\" of model '%s' has no \"cost\"" % (where, name))
            v = v["cost"]
        out.append(_value(v, name, is_cost, where))
    return out


def _jsonl(path, fmt):
    text = _read(path)
    models = None
    scores, costs, split, lines = [], [], [], []
    has_split = None
    for lineno, raw in enumerate(text.split(b"\n"), 1):
        raw = raw.rstrip(b"\r")
        if not raw.strip(b" \t"):
            continue
        where = "%s:%d" % (path, lineno)
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DataError("%s: not valid UTF-8" % where) from None
        try:
            obj = json.loads(line, object_pairs_hook=_no_duplicates(where),
                             parse_constant=_refuse_constant(where))
        except json.JSONDecodeError as e:
            raise DataError("%s: malformed JSON near column %d (each line must hold one whole "
                            "JSON object)" % (where, e.colno)) from None
        if not isinstance(obj, dict):
            raise DataError("%s: expected a JSON object" % where)
        if models is None:
            if fmt == "auto":
                fmt = "avengers" if "scores" in obj else "avengerspro" if "records" in obj else None
                if fmt is None:
                    raise DataError("%s: neither \"scores\" (avengers format) nor \"records\" "
                                    "(avengerspro format); keys found: %s" % (where, ", ".join(obj)))
            sk = _FORMATS[fmt][0]
            if not isinstance(obj.get(sk), dict):
                raise DataError("%s: \"%s\" is missing or not an object" % (where, sk))
            if not obj[sk]:
                raise DataError("%s: \"%s\" has no models" % (where, sk))
            models = sorted(obj[sk], key=lambda s: s.encode("utf-8", "surrogateescape"))
            has_split = "split" in obj
        sk, ck = _FORMATS[fmt]
        s = _row(obj.get(sk), sk, models, fmt, False, where)
        c = _row(obj.get(ck), ck, models, fmt, True, where)
        for i in range(len(models)):
            if math.isnan(s[i]) or math.isnan(c[i]):
                s[i] = c[i] = math.nan  # an outcome needs both
        if ("split" in obj) != has_split:
            raise DataError("%s: %s" % (where, "no \"split\" (line 1 has one, so every line needs one)"
                                        if has_split else "\"split\" present but line 1 has none"))
        if has_split:
            if not isinstance(obj["split"], str):
                raise DataError("%s: \"split\" must be a string" % where)
            split.append(obj["split"])
        scores.append(s)
        costs.append(c)
        lines.append(lineno)
    if models is None:
        raise DataError("%s: no data lines" % path)
    m = len(models)
    return (tuple(models), np.array(scores, dtype=np.float64).reshape(-1, m),
            np.array(costs, dtype=np.float64).reshape(-1, m), split if has_split else None,
            np.array(lines, dtype=np.int64), fmt)


def load_embeddings(path, dim=None):
    """The embedding matrix the command reads: a .npy (2-D, C order, float32 or float64; plain or
    gzip) as float32, or with dim, raw little-endian float32 rows of dim values."""
    data = _read(path)
    if dim is not None:
        if data[:6] == _NPY_MAGIC:
            raise DataError("%s is a .npy file: leave out dim (it is read from the header)" % path)
        if dim <= 0 or len(data) % (4 * dim):
            raise DataError("%s: %d bytes is not a whole number of rows of %d float32 values "
                            "(check dim)" % (path, len(data), dim))
        return np.frombuffer(data, dtype="<f4").reshape(-1, dim).astype(np.float32)
    if data[:6] != _NPY_MAGIC:
        raise DataError("%s: not a .npy file (bad magic); raw float32 needs dim" % path)
    a = np.load(io.BytesIO(data), allow_pickle=False)
    if a.ndim != 2:
        raise DataError("%s: a %d-D array (expected 2-D: rows x dim)" % (path, a.ndim))
    if a.dtype not in (np.dtype("<f4"), np.dtype("<f8")) or not a.flags.c_contiguous:
        raise DataError("%s: dtype %s%s (expected little-endian float32 or float64 in C order)"
                        % (path, a.dtype.str, "" if a.flags.c_contiguous else ", Fortran order"))
    return np.ascontiguousarray(a, dtype=np.float32)


def load_replay(data, embeddings=None, *, format="auto", dim=None):
    """Read replay data (and its embeddings) as ``avengers train/eval`` do; returns a
    :class:`Replay`. format: "auto", "avengers" or "avengerspro". DataError (a ValueError) names
    the file, line and problem."""
    if format not in ("auto",) + tuple(_FORMATS):
        raise ValueError("format must be auto, avengers or avengerspro")
    models, scores, costs, split, lines, fmt = _jsonl(os.fspath(data), format)
    emb = None
    if embeddings is not None:
        emb = load_embeddings(os.fspath(embeddings), dim)
        if emb.shape[0] != scores.shape[0]:
            raise DataError("%s has %d rows but %s has %d data lines; they must match row for row"
                            % (embeddings, emb.shape[0], data, scores.shape[0]))
    return Replay(models, scores, costs, split, emb, lines, fmt)
