"""A string column's bytes, read through its Arrow buffers (no per-value work).

Cheap whole-column looks ("does any value hold a comma at all") that let the parsers skip
work a column does not need.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa


def _as_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _lengths(values: pa.Array) -> np.ndarray:
    """Byte length of each string, from the offsets buffer (no per-value work)."""
    if isinstance(values, pa.DictionaryArray):
        return _lengths(values.dictionary)[values.indices.to_numpy(zero_copy_only=False)]
    off_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.frombuffer(values.buffers()[1], dtype=off_type)[values.offset:values.offset + len(values) + 1]
    return np.diff(offsets).astype(np.int64)


class _Bytes:
    """The UTF-8 bytes of a whole string column, for cheap "does it hold X at all" tests."""

    def __init__(self, values: pa.Array) -> None:
        if len(values) == 0 or values.buffers()[2] is None:
            self.raw = b""
            return
        off_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
        offsets = np.frombuffer(values.buffers()[1], dtype=off_type)
        lo, hi = int(offsets[values.offset]), int(offsets[values.offset + len(values)])
        self.raw = memoryview(values.buffers()[2])[lo:hi].tobytes()

    def has(self, text: str) -> bool:
        return text.encode("utf-8") in self.raw

    def has_other_than(self, allowed: bytes) -> bool:
        """True when some byte is not in ``allowed``."""
        return bool(self.raw.translate(None, allowed))


def _swap_byte(values: pa.Array, old: str, new: str) -> pa.Array:
    """Every ASCII character ``old`` replaced by ``new``: the same lengths, so the same
    offsets, and one pass over the bytes."""
    bufs = values.buffers()
    if len(values) == 0 or bufs[2] is None:
        return values
    table = bytes.maketrans(old.encode("ascii"), new.encode("ascii"))
    data = pa.py_buffer(memoryview(bufs[2]).tobytes().translate(table))
    return pa.Array.from_buffers(values.type, len(values), [bufs[0], bufs[1], data],
                                 null_count=values.null_count, offset=values.offset)


def _as_one_value(values: pa.Array) -> pa.Array | None:
    """All the text of a string column as one value (a zero-copy view), for a search that
    needs no value boundaries; None when the column does not allow it."""
    if not pa.types.is_string(values.type) or values.null_count or not len(values) \
            or values.buffers()[2] is None:
        return None
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)
    span = np.array([offsets[values.offset], offsets[values.offset + len(values)]], dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(span), values.buffers()[2]])
