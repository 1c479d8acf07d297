"""Every layer of a PyTorch model measured over a data loader, in one pass, nothing stored.

    import repalign.torch
    spectra = repalign.torch.measure_layers(model, loader, classes=range(10))
    {name: s.auc for name, s in spectra.items()}

Each chosen module gets a forward hook that streams its output batch straight into that
layer's ``repalign.Accumulator`` (so an in-place operation later in the forward pass cannot
change what was measured, and no activation is kept); the model runs in eval mode under
``torch.no_grad()``; the hooks are removed and the model's mode restored in a ``finally``,
whatever happens. Needs torch (``pip install torch``); ``import repalign`` does not.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional, Sequence

import torch

from . import Accumulator, AlignmentError, Spectrum


def _leaves(model: torch.nn.Module) -> Dict[str, torch.nn.Module]:
    return {n: m for n, m in model.named_modules() if n and not any(True for _ in m.children())}


def _chosen(model: torch.nn.Module, layers: Optional[Sequence[str]]) -> Dict[str, torch.nn.Module]:
    if layers is None:
        return _leaves(model)
    named = dict(model.named_modules())
    missing = [n for n in layers if n not in named]
    if missing:
        known = ", ".join(n for n in named if n) or "(none)"
        raise AlignmentError(f"no layer named {missing[0]!r} in the model; its layers: {known}")
    return {n: named[n] for n in layers}


def measure_layers(
    model: torch.nn.Module,
    loader: Iterable[Any],
    *,
    classes: Iterable[float],
    layers: Optional[Sequence[str]] = None,
    pool: Optional[str] = None,
    max_rows: Optional[int] = None,
    max_memory: int = 8 << 30,
    bias_column: bool = True,
    row_normalize: bool = True,
) -> Dict[str, Spectrum]:
    """The alignment of every chosen layer's output with the labels, over ``loader``.

    ``loader`` yields ``(inputs, labels)`` batches (a ``DataLoader`` or any iterable);
    ``classes`` lists the label values. ``layers``: module names (``model.named_modules()``), by
    default every leaf module. ``pool="avg"`` averages 4-D outputs over space first (one
    feature per channel: far less memory for conv layers). ``max_rows`` stops after that many
    rows. Each layer's memory bound is checked against ``max_memory`` before its first batch is
    added, with a hint when it is too large.
    """
    if pool not in (None, "avg"):
        raise AlignmentError(f"pool={pool!r}: expected None or 'avg'")
    classes = [float(c) for c in classes]
    chosen = _chosen(model, layers)
    accumulators: Dict[str, Accumulator] = {}
    batch: Dict[str, Any] = {}
    errors: list = []

    def hook_for(name: str):
        def hook(module: torch.nn.Module, inputs: Any, output: Any) -> None:
            if errors:
                return
            try:
                if not isinstance(output, torch.Tensor):
                    raise AlignmentError(
                        f"layer {name!r} returns {type(output).__name__}, not a tensor: "
                        "choose its tensor-valued submodules with layers=[...]"
                    )
                x = output.detach()
                if pool == "avg" and x.dim() == 4:
                    x = x.mean(dim=(2, 3))
                x = x.reshape(x.shape[0], -1)
                if x.device.type != "cpu":
                    x = x.cpu()
                x = x.float().numpy()[: batch["rows"]]
                acc = accumulators.get(name)
                if acc is None:
                    try:
                        acc = Accumulator(
                            x.shape[1],
                            classes,
                            bias_column=bias_column,
                            row_normalize=row_normalize,
                            max_memory=max_memory,
                        )
                    except AlignmentError as e:
                        hint = " (or pool='avg')" if pool is None and output.dim() == 4 else ""
                        raise AlignmentError(f"layer {name!r}: {e}{hint}") from None
                    accumulators[name] = acc
                acc.update(x, batch["labels"])
            except BaseException as e:  # re-raised after the forward pass, hooks removed
                errors.append(e)

        return hook

    handles = [m.register_forward_hook(hook_for(n)) for n, m in chosen.items()]
    was_training = model.training
    seen = 0
    try:
        model.eval()
        with torch.no_grad():
            for item in loader:
                if max_rows is not None and seen >= max_rows:
                    break
                try:
                    inputs, labels = item[0], item[1]
                except (TypeError, IndexError, KeyError):
                    raise AlignmentError("the loader must yield (inputs, labels) batches") from None
                labels = torch.as_tensor(labels).detach().cpu().reshape(-1)
                rows = len(labels)
                if max_rows is not None:
                    rows = min(rows, max_rows - seen)
                batch["rows"] = rows
                batch["labels"] = labels[:rows].double().numpy()
                model(inputs)
                if errors:
                    raise errors[0]
                seen += rows
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if not accumulators:
        raise AlignmentError("the loader yielded no batches, or no chosen layer ran")
    return {name: accumulators[name].compute() for name in chosen if name in accumulators}
