"""``Coded``: a text column as integer codes into its distinct values.

Names, INNs, dates, products and managers repeat a great deal: work on them is done once
per distinct value and spread back to the rows through the codes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class Coded:
    """A text column as integer codes into its distinct values (low-cardinality columns).

    codes: np.ndarray of int, one per row; values: the distinct values, each once.
    """

    codes: np.ndarray
    values: list[str]

    @classmethod
    def encode(cls, values: pa.Array) -> Coded:
        """Codes in order of first appearance (also from a dictionary array whose
        dictionary is in that order and may hold a value twice, e.g. after ``_trim``)."""
        import pandas as pd

        if isinstance(values, pa.DictionaryArray):
            remap, uniq = pd.factorize(pd.Series(values.dictionary.to_pylist(), dtype=object))
            idx = values.indices.to_numpy(zero_copy_only=False)
            if len(uniq) == len(remap):  # distinct already, in order: the indices are the codes
                return cls(codes=idx.astype(np.int64), values=list(uniq))
            return cls(codes=remap.astype(np.int64)[idx], values=list(uniq))
        enc = pc.dictionary_encode(values)
        return cls(codes=enc.indices.to_numpy(zero_copy_only=False).astype(np.int64),
                   values=enc.dictionary.to_pylist())

    def map(self, func: Any, which: np.ndarray | None = None) -> Coded:
        """Apply ``func`` to the distinct values; values that become equal are merged.

        ``which``: indices of the only values ``func`` can change (the others are kept).
        """
        import pandas as pd

        if which is None:
            mapped = [func(v) for v in self.values]
        else:
            if not len(which):
                return Coded(codes=self.codes, values=list(self.values))
            mapped = list(self.values)
            for i in which.tolist():
                mapped[i] = func(mapped[i])
        new, uniq = pd.factorize(pd.Series(mapped, dtype=object))
        return Coded(codes=new[self.codes] if len(self.codes) else self.codes, values=list(uniq))

    def with_values(self, mapped: list[str]) -> Coded:
        """``map`` with the new value of each distinct value given (same order)."""
        import pandas as pd

        new, uniq = pd.factorize(pd.Series(mapped, dtype=object))
        return Coded(codes=new[self.codes] if len(self.codes) else self.codes, values=list(uniq))

    def take(self, index: np.ndarray) -> Coded:
        return Coded(codes=self.codes[index], values=self.values)

    def mask(self, pred: Any, which: np.ndarray | None = None) -> np.ndarray:
        """Row mask where ``pred(value)`` is true (evaluated once per distinct value).

        ``which``: indices of the only values for which ``pred`` can be true.
        """
        if which is not None:
            hit = np.zeros(len(self.values), dtype=bool)
            for i in which.tolist():
                hit[i] = bool(pred(self.values[i]))
        else:
            hit = np.fromiter((bool(pred(v)) for v in self.values), dtype=bool, count=len(self.values))
        return hit[self.codes] if len(self.values) else np.zeros(len(self.codes), dtype=bool)

    def equals(self, value: str) -> np.ndarray:
        """Row mask where the value is ``value`` (the distinct values are distinct: one code)."""
        try:
            return self.codes == self.values.index(value)
        except ValueError:
            return np.zeros(len(self.codes), dtype=bool)

    def where(self, pattern: str) -> np.ndarray:
        """Indices of the distinct values matching an RE2 ``pattern`` (one vectorised call)."""
        if not self.values:
            return np.zeros(0, dtype=np.int64)
        hit = pc.match_substring_regex(pa.array(self.values, pa.string()), pattern)
        return np.flatnonzero(hit.to_numpy(zero_copy_only=False))

    def arrow(self) -> pa.Array:
        return pa.array(self.values, pa.string()).take(pa.array(self.codes))

    def __len__(self) -> int:
        return len(self.codes)


def _first_rows(codes: np.ndarray, size: int) -> np.ndarray:
    """For each code 0..size-1, the first row holding it (len(codes) where none does)."""
    first = np.full(size, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
    return first
