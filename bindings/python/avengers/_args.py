"""Checks on arguments before they cross into C.

ctypes converts a Python integer to a C integer modulo 2**bits (``2**32 + 1`` becomes 1 in a
uint32_t) and a C string ends at its first NUL (``"a.avr\\0.bak"`` is ``"a.avr"`` to C), so
either would silently change the request. Every integer and string the binding hands to the
library goes through this module first:

* :func:`integer`: ``operator.index`` (so a float such as 2.5 is a TypeError, not 2), then a
  range check against the C type, else ``OverflowError`` naming the argument and the range;
* :func:`cstring`: str encoded as UTF-8 (lone surrogates from ``surrogateescape`` decoding map
  back to their bytes, so a name read from the library round-trips), bytes passed unchanged; an
  interior NUL is a ``ValueError``. Whether the bytes are a valid name (UTF-8, no control
  characters) is the library's decision: it refuses bad names with AV_EINVAL, which surfaces as
  :class:`avengers.InvalidArgument`;
* :func:`text`: bytes from the library decoded with ``surrogateescape``, never raising;
* :func:`float32_as_given`: a float the library keeps as float32 (alpha, temperature) reported as
  the shortest decimal that reads back as the same float32, i.e. as the user wrote it (0.22, not
  0.2199999988079071).
"""
import ctypes
import operator
import os

import numpy as np

#: C type name -> (smallest, largest) value
LIMITS = {
    "uint8_t": (0, 2 ** 8 - 1),
    "int32_t": (-2 ** 31, 2 ** 31 - 1),
    "int": (-2 ** (8 * ctypes.sizeof(ctypes.c_int) - 1), 2 ** (8 * ctypes.sizeof(ctypes.c_int) - 1) - 1),
    "uint32_t": (0, 2 ** 32 - 1),
    "uint64_t": (0, 2 ** 64 - 1),
    "size_t": (0, 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1),
}


def integer(value, what, ctype):
    """value as a Python int that fits the C type ctype (a key of LIMITS)."""
    v = index(value, what)
    lo, hi = LIMITS[ctype]
    if not lo <= v <= hi:
        raise OverflowError("%s = %d is out of range: the C API takes a %s (%d to %d)" % (what, v, ctype, lo, hi))
    return v


def index(value, what):
    """operator.index(value), with a TypeError naming the argument (no range check)."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError("%s must be an integer, got %s %r" % (what, type(value).__name__, value)) from None


def integers(values, what, ctype, dtype):
    """A C-contiguous 1-D numpy array of dtype from a sequence (or scalar) of integers, each
    checked as :func:`integer` does. Meant for short lists (candidate grids)."""
    items = np.asarray(values, dtype=object).ravel().tolist()
    checked = [integer(x, "%s[%d]" % (what, i), ctype) for i, x in enumerate(items)]
    return np.array(checked, dtype=dtype)


def indices(values, what):
    """A C-contiguous size_t array of row indices. Integer arrays are checked without a Python
    loop; booleans and floats are refused (a boolean row mask would otherwise become the indices
    0 and 1), negative values are an OverflowError."""
    a = np.asarray(values)
    if a.size == 0:
        return np.zeros(0, dtype=np.uintp)
    if a.dtype == object:
        return integers(a, what, "size_t", np.uintp)
    if a.dtype.kind not in "iu":
        raise TypeError("%s must hold integers, got %s" % (what, a.dtype))
    a = a.ravel()
    if a.dtype.kind == "i" and a.min() < 0:
        raise OverflowError("%s holds %d: row indices are a size_t, never negative"
                            % (what, int(a.min())))
    if a.dtype.itemsize > np.dtype(np.uintp).itemsize and int(a.max()) > LIMITS["size_t"][1]:
        raise OverflowError("%s holds %d, more than a size_t holds" % (what, int(a.max())))
    return np.ascontiguousarray(a, dtype=np.uintp)


def _nul_check(b, what, original):
    i = b.find(b"\0")
    if i >= 0:
        raise ValueError("%s contains a NUL character at offset %d (C would cut it there): %r"
                         % (what, i, original))
    return b


def cstring(s, what):
    """bytes for a ``const char *`` argument: str as UTF-8, bytes unchanged, no interior NUL."""
    if isinstance(s, str):
        try:
            b = s.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            # a lone surrogate that surrogateescape cannot map back: pass its (invalid) UTF-8
            # form so that the library, which owns the rule for names, refuses it
            b = s.encode("utf-8", "surrogatepass")
    elif isinstance(s, (bytes, bytearray, memoryview)):
        b = bytes(s)
    else:
        raise TypeError("%s must be str or bytes, got %s" % (what, type(s).__name__))
    return _nul_check(b, what, s)


def path(p, what="path"):
    """bytes of a file system path (os.fsencode), no interior NUL."""
    b = os.fsencode(os.fspath(p))
    return _nul_check(b, what, p)


def text(b):
    """str of bytes the library returned (names, metadata); never raises on invalid UTF-8."""
    return b.decode("utf-8", "surrogateescape") if b is not None else None


def float32_as_given(x):
    """The Python float of the shortest decimal that reads back as the float32 x: numpy prints a
    float32 with the fewest digits that round-trip (0.22 stays 0.22). NaN and infinities pass."""
    return float(str(np.float32(x)))
