"""numpy <-> C pointers without copying.

The rule, used by every call that takes embeddings, scores or costs:

* a float32 array whose rows are contiguous (last stride 4 bytes, aligned) is passed by pointer:
  for a vector that means C-contiguous; for a matrix the row stride may be larger than the row
  (a column slice ``big[:, :d]`` or every other row ``big[::2]``) and goes to the C call's
  ``row_stride`` argument -- no copy either way;
* anything else (float64, int, lists, non-contiguous columns, negative strides, misaligned
  buffers) is converted ONCE to a C-contiguous float32 array (``np.ascontiguousarray``), which
  rounds float64 to float32 exactly as the C API would.

The helpers return the pointer together with the array that owns the memory; callers keep that
object alive for the duration of the C call.
"""
import numpy as np

F32 = np.dtype(np.float32)


def _rows_contiguous(a, dtype):
    return (a.dtype == dtype and a.flags.aligned and a.strides[-1] == dtype.itemsize)


def vector(x, name="embedding"):
    """(pointer, length, owner) of a 1-D float32 view of x."""
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError("%s must be 1-D, got shape %s" % (name, a.shape))
    if not _rows_contiguous(a, F32):
        a = np.ascontiguousarray(a, dtype=F32)
    return a.ctypes.data, a.shape[0], a


def matrix(x, dtype=F32, name="matrix"):
    """(pointer, n_rows, n_cols, row_stride_in_elements, owner) of a 2-D view of x whose rows are
    contiguous. A 1-D input is taken as a single row."""
    a = np.asarray(x)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError("%s must be 2-D, got shape %s" % (name, a.shape))
    n, d = a.shape
    item = dtype.itemsize
    ok = _rows_contiguous(a, dtype) or d == 0
    if ok and n > 1:
        ok = a.strides[0] >= d * item and a.strides[0] % item == 0
    if not ok:
        a = np.ascontiguousarray(a, dtype=dtype)
    stride = a.strides[0] // item if n > 1 else d
    return a.ctypes.data, n, d, stride, a


def contiguous(x, dtype, shape, name):
    """A C-contiguous array of dtype with the given shape (pointer, owner); converted once if
    needed."""
    a = np.asarray(x)
    if a.shape != tuple(shape):
        raise ValueError("%s must have shape %s, got %s" % (name, tuple(shape), a.shape))
    if a.dtype != dtype or not a.flags.c_contiguous or not a.flags.aligned:
        a = np.ascontiguousarray(a, dtype=dtype)
    return a.ctypes.data, a
