"""repalign.torch.measure_layers against activations collected by hand; hooks always removed.
Skips, saying why, where torch is not installed (CI: PyTorch from the Python registry is ~5.6 GB
with its CUDA libraries). To run: .venv-py/bin/pip install torch pytest && .venv-py/bin/python
-m pytest crates/python/tests -q"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed: the PyTorch helper's tests need it")

import repalign  # noqa: E402
import repalign.torch as rt  # noqa: E402


def loader(n=96, batch=20, shape=(1, 8, 8), seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, *shape, generator=g)
    y = torch.arange(n) % 3
    x[:, 0, 0, 0] += y.float()
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]


def mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 16), torch.nn.ReLU(inplace=True), torch.nn.Linear(16, 3))


def cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(inplace=True), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64, 3),
    )


def by_hand(model, batches, name, pool=None):
    module = dict(model.named_modules())[name]
    kept = []
    h = module.register_forward_hook(lambda m, i, o: kept.append(o.detach().clone()))
    try:
        with torch.no_grad():
            model.eval()
            ys = []
            for x, y in batches:
                model(x)
                ys.append(y)
    finally:
        h.remove()
    feats = torch.cat(kept)
    if pool == "avg" and feats.dim() == 4:
        feats = feats.mean(dim=(2, 3))
    return feats.reshape(len(feats), -1).numpy(), torch.cat(ys).numpy()


@pytest.mark.parametrize("make", [mlp, cnn])
@pytest.mark.parametrize("pool", [None, "avg"])
def test_measure_layers_equals_activations_collected_by_hand(make, pool):
    model, batches = make(), loader()
    spectra = rt.measure_layers(model, batches, classes=range(3), pool=pool)
    names = [n for n, m in model.named_modules() if n and not list(m.children())]
    assert list(spectra) == names
    for name in names:
        f, y = by_hand(model, batches, name, pool)
        assert abs(spectra[name].auc - repalign.alignment(f, y).auc) < 1e-9, name
    assert all(not m._forward_hooks for m in model.modules())


def test_hooks_are_removed_when_the_loader_raises():
    model = cnn()

    def broken():
        yield from loader()[:2]
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError, match="disk gone"):
        rt.measure_layers(model, broken(), classes=range(3))
    assert all(not m._forward_hooks for m in model.modules())
    assert model.training


def test_unknown_layers_and_large_layers_are_refused_with_a_hint():
    model = cnn()
    with pytest.raises(repalign.AlignmentError, match="no layer named 'fc9'"):
        rt.measure_layers(model, loader(), classes=range(3), layers=["fc9"])
    with pytest.raises(repalign.AlignmentError, match="pool='avg'"):
        rt.measure_layers(model, loader(), classes=range(3), layers=["0"], max_memory=1000)
    assert all(not m._forward_hooks for m in model.modules())


def test_max_rows_stops_early():
    spectra = rt.measure_layers(mlp(), loader(), classes=range(3), max_rows=50)
    assert all(s.n == 50 for s in spectra.values())
