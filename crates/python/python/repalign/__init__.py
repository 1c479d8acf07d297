"""Representation alignment (Imani, Hu & White, TMLR 2022), exact and streamed.

``alignment(features, labels)`` measures how far the top singular directions of a
representation line up with the labels: the same numbers and JSON as ``runner align --json``.
``Accumulator`` does the same over minibatches, in any order and size, and merges across
workers. ``repalign.torch.measure_layers`` measures every layer of a PyTorch model over a data
loader (``import repalign.torch``; needs torch).

Inputs: numpy arrays, lists, or CPU torch tensors. float32 and float64 C-contiguous features are
read in place; anything else (integers, Fortran order, strided views) is copied once, here,
explicitly. Bad input raises ``AlignmentError`` (a ``ValueError``) that names the row, column,
shape or value.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

import numpy as np

from ._repalign import AlignmentError, Spectrum, __version__
from ._repalign import _Accumulator
from ._repalign import alignment as _alignment

__all__ = ["AlignmentError", "Accumulator", "Spectrum", "alignment", "__version__"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _numpy(x: Any, what: str) -> np.ndarray:
    """A numpy view of ``x``; torch tensors must be on the CPU."""
    device = getattr(x, "device", None)
    if device is not None and hasattr(x, "detach"):
        kind = getattr(device, "type", str(device))
        if kind != "cpu":
            raise AlignmentError(
                f"{what} are a tensor on {device}: move them to the CPU first "
                f"(tensor.detach().cpu()); the measure runs on the CPU in f64"
            )
        x = x.detach().numpy()
    return np.asarray(x)


def _features(x: Any) -> np.ndarray:
    a = _numpy(x, "features")
    if a.ndim != 2:
        raise AlignmentError(
            f"features must be 2-D (rows x features), got shape {a.shape}"
            + ("; flatten each row first (x.reshape(len(x), -1))" if a.ndim > 2 else "")
        )
    if a.dtype not in _FLOATS:
        if a.dtype.kind not in "fiub":
            raise AlignmentError(f"features of dtype {a.dtype}: need numbers")
        a = a.astype(np.float64)
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    return a


def _labels(y: Any) -> np.ndarray:
    a = _numpy(y, "labels")
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise AlignmentError(f"labels must be 1-D (one per row), got shape {a.shape}")
    if a.dtype.kind not in "fiub":
        raise AlignmentError(f"labels of dtype {a.dtype}: need numbers")
    return np.ascontiguousarray(a, dtype=np.float64)


def alignment(
    features: Any,
    labels: Any,
    *,
    task: Optional[str] = None,
    bias_column: bool = True,
    row_normalize: bool = True,
) -> Spectrum:
    """The alignment of ``features`` (n x d) with ``labels`` (n).

    ``task``: ``"binary"`` (any two values), ``"multiclass"`` (centred one-vs-rest targets; a
    perfect code reaches about 1/sqrt(classes - 1), and ``pair_mean_auc`` gives the mean binary
    auc over class pairs) or ``"regression"``; inferred from the labels when None.
    ``bias_column`` appends a constant column, ``row_normalize`` scales rows to unit norm (both
    as the paper does). The GIL is released while the measure runs.
    """
    return _alignment(
        _features(features),
        _labels(labels),
        task=task,
        bias_column=bias_column,
        row_normalize=row_normalize,
    )


class Accumulator:
    """The measure over minibatches of rows labelled with ``classes``.

    ``update(features, labels)`` adds a batch (any size, any order); ``merge(other)`` adds
    another accumulator's rows (workers, ranks); ``compute()`` gives the ``Spectrum``, the same
    as ``alignment`` on all rows at once to rounding, whatever the batches. Two classes give the
    binary measure, more the multi-class one with ``pair_mean_auc``. It keeps at most the rows
    below the Gram switch point or one (d + 1)-square Gram per class; that bound is checked
    against ``max_memory`` (bytes, default 8 GiB) when it is made, before anything is allocated.
    """

    def __init__(
        self,
        d: int,
        classes: Iterable[float],
        *,
        bias_column: bool = True,
        row_normalize: bool = True,
        max_memory: int = 8 << 30,
    ) -> None:
        self._acc = _Accumulator(
            int(d),
            [float(c) for c in classes],
            bias_column=bias_column,
            row_normalize=row_normalize,
            max_memory=int(max_memory),
        )

    @staticmethod
    def memory_bound(d: int, classes: int, *, bias_column: bool = True, row_normalize: bool = True) -> int:
        """The most bytes an accumulator of ``d`` features in ``classes`` classes holds."""
        return _Accumulator.memory_bound(d, classes, bias_column=bias_column, row_normalize=row_normalize)

    def update(self, features: Any, labels: Any) -> None:
        """Adds a batch; on an error nothing is added."""
        self._acc.update(_features(features), _labels(labels))

    def merge(self, other: "Accumulator") -> None:
        """Adds ``other``'s rows (same d, classes and options); ``other`` is unchanged."""
        if other is self:
            raise AlignmentError("cannot merge an accumulator into itself")
        self._acc.merge(other._acc)

    def compute(self) -> Spectrum:
        """The measure of every row added so far."""
        return self._acc.compute()

    @property
    def rows(self) -> int:
        return self._acc.rows

    @property
    def d(self) -> int:
        return self._acc.d

    @property
    def classes(self) -> list:
        return self._acc.classes

    def __repr__(self) -> str:
        return f"Accumulator(d={self.d}, classes={len(self.classes)}, rows={self.rows})"
