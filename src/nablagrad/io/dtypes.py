"""The dtypes a model file stores: safetensors' codes and the NumPy dtype each one reads as (little-endian).
One table for the file format (:mod:`.serialization`) and for the buffers an architecture may describe
(:mod:`.architecture`).  Complex numbers are not among them (safetensors has no complex128, and a complex64 entry
would be a file ``load`` refuses): ``save`` refuses such a tensor, naming it."""

from __future__ import annotations

import numpy as np

FILE_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
               "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}  # fmt: skip
DTYPE_NAMES = tuple(np.dtype(code).name for code in FILE_DTYPES.values())  # "float64", …, "bool"
