"""Exceptions: one class per AV_E* code, all derived from :class:`Error`.

Every exception carries ``code`` (the negative AV_E* value), ``name`` ("EDIM"), ``text`` (the
library's av_strerror text) and ``detail`` (av_last_error() of the failing call, read on the same
thread right after the failure). Classes also derive from the closest Python built-in
(ValueError, MemoryError, OSError, IndexError, KeyError) so that generic handlers still work.
A code this binding does not know becomes a plain :class:`Error`.
"""


class Error(Exception):
    """A libavengers call failed."""

    code = None
    name = None

    def __init__(self, code, text, detail=""):
        self.code = code
        self.text = text
        self.detail = detail
        # av_last_error() already starts with the code's text when the library sets it.
        msg = "%s [%s %d]" % (detail or text, "AV_" + self.name if self.name else "code", code)
        super().__init__(msg)

    def __reduce__(self):
        return (error_for, (self.code, self.detail, self.text))

    def __str__(self):
        return self.args[0] if self.args else ""


# (name, code, extra base). Must follow AV_ERRNO_MAP in avengers.h; tests/python checks that it does.
_TABLE = [
    ("InvalidArgument", "EINVAL", -1, ValueError),
    ("OutOfMemory", "ENOMEM", -2, MemoryError),
    ("FileError", "EIO", -3, OSError),
    ("FormatError", "EFORMAT", -4, ValueError),
    ("ChecksumError", "ECHECKSUM", -5, ValueError),
    ("VersionError", "EVERSION", -6, ValueError),
    ("DimensionError", "EDIM", -7, ValueError),
    ("VectorError", "EVECTOR", -8, ValueError),
    ("AlphaError", "EALPHA", -9, ValueError),
    ("ModelError", "EMODEL", -10, IndexError),
    ("BadValue", "EVALUE", -11, ValueError),
    ("RangeError", "ERANGE", -12, IndexError),
    ("EmptyError", "EEMPTY", -13, ValueError),
    ("NoModelError", "ENOMODEL", -14, ValueError),
    ("MismatchError", "EMISMATCH", -15, ValueError),
    ("LimitError", "ELIMIT", -16, ValueError),
    ("NotSupported", "ENOTSUP", -17, NotImplementedError),
    ("Cancelled", "ECANCELED", -18, RuntimeError),
]

#: code -> exception class
BY_CODE = {}
#: "EDIM" -> code
CODES = {}

for _cls, _name, _code, _base in _TABLE:
    _pyname = _cls
    _new = type(_pyname, (Error, _base), {"name": _name, "__doc__": "AV_%s (%d)" % (_name, _code)})
    _new.__module__ = "avengers"
    globals()[_pyname] = _new
    BY_CODE[_code] = _new
    CODES[_name] = _code
del _cls, _name, _code, _base, _pyname, _new
Error.__module__ = "avengers"


def error_for(code, detail="", text=None):
    """The exception object for a negative code (its class per BY_CODE, else Error)."""
    if text is None:
        from . import _native

        text = _native.strerror(code)
    cls = BY_CODE.get(code, Error)
    return cls(code, text, detail)


__all__ = ["Error", "BY_CODE", "CODES", "error_for"] + [c for c, _, _, _ in _TABLE]
