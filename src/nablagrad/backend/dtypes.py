"""The dtypes a tensor may hold: numbers only — booleans, integers, floats and complex numbers (NumPy's kinds
``b i u f c``), as PyTorch's tensors.  One table for every place a dtype is named or an array becomes a tensor
(``ng.tensor``, ``as_tensor``, ``astype``, ``zeros(dtype=)`` …), so each refuses the same dtypes with the same
message: strings, bytes, Python objects, dates and records are refused when the tensor is made, not deep inside
the first op that meets them."""

from __future__ import annotations

import numpy as np

# the accepted kinds and the dtype names each offers (the names the messages list)
TENSOR_DTYPES: dict[str, tuple[str, ...]] = {
    "b": ("bool",),
    "i": ("int8", "int16", "int32", "int64"),
    "u": ("uint8", "uint16", "uint32", "uint64"),
    "f": ("float16", "float32", "float64"),
    "c": ("complex64", "complex128"),
}
TENSOR_KINDS = "".join(TENSOR_DTYPES)  # "biufc"
_ACCEPTED = ", ".join(name for names in TENSOR_DTYPES.values() for name in names)

_WHAT = {  # what a refused kind holds, and how to make numbers of it
    "U": ("strings", "parse them first, e.g. np.asarray(x).astype('float32')"),
    "S": ("bytes", "decode and parse them first, e.g. np.asarray(x).astype('float32')"),
    "O": ("Python objects", "give numbers, e.g. np.asarray(x, dtype='float32')"),
    "M": ("dates (datetime64)", "convert them to numbers first, e.g. (x - x.min()) / np.timedelta64(1, 's')"),
    "m": ("time spans (timedelta64)", "convert them to numbers first, e.g. x / np.timedelta64(1, 's')"),
    "V": ("records (a structured dtype)", "take a numeric field first, e.g. x['value']"),
}


def tensor_dtype(dtype, who: str) -> np.dtype:
    """``dtype`` (a name, a NumPy type or dtype, Python's ``float``/``int``/``bool``) as a NumPy dtype a tensor
    can hold; else a TypeError naming ``who``, the dtype and the accepted ones."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{who}: {dtype!r} is not a dtype; give one of {_ACCEPTED} (a name, a NumPy type such as np.float32, "
            "or Python's float, int or bool)"
        ) from None
    check_tensor_dtype(dt, who)
    return dt


# torch.result_type's categories: a 0-d tensor (or a number) is weak within its operand's category, wins above it
CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_INT_RANGE = {np.dtype(n): (int(np.iinfo(n).min), int(np.iinfo(n).max)) for n in TENSOR_DTYPES["i"] + TENSOR_DTYPES["u"]}


def wrap_int(value: int, dtype: np.dtype) -> int:
    """A Python int as a tensor of integer ``dtype`` takes it in an op: wrapped modulo 2ᵇⁱᵗˢ into the dtype's range,
    as PyTorch casts a number to the tensor's dtype (uint8 + −2 adds 254, int8 + 300 adds 44), where NumPy refuses it
    (OverflowError).  A value beyond int64/uint64 is left for NumPy to refuse, as PyTorch refuses it."""
    lo, hi = _INT_RANGE[dtype]
    if lo <= value <= hi or not -(2**63) <= value < 2**64:
        return value
    return (value - lo) % (hi - lo + 1) + lo


def check_tensor_dtype(dt: np.dtype, who: str) -> None:
    """Refuse a dtype that is not a number's (strings, objects, dates …), naming ``who``, the dtype and the fix."""
    if dt.kind not in TENSOR_KINDS:
        what, fix = _WHAT.get(dt.kind, (f"values of dtype {dt}", "give numbers"))
        raise TypeError(f"{who}: a tensor holds numbers, not {what} (dtype {dt}); {fix}. Tensors hold {_ACCEPTED}")


__all__ = ["CATEGORY", "TENSOR_DTYPES", "TENSOR_KINDS", "check_tensor_dtype", "tensor_dtype", "wrap_int"]
