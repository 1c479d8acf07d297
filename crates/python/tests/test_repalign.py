"""The Python package against `runner align`, a plain numpy SVD, and its own promises: input in
any layout gives the same numbers, streams equal the whole, bad input raises with a message, the
GIL is released. Torch tests skip (with the reason) where torch is not installed.

    python -m venv .venv-py && .venv-py/bin/pip install ./crates/python pytest
    .venv-py/bin/python -m pytest crates/python/tests -q
"""

import json
import os
import pathlib
import subprocess
import threading
import time

import numpy as np
import pytest

import repalign
from repalign import Accumulator, AlignmentError, alignment

ROOT = pathlib.Path(__file__).resolve().parents[3]
DIGITS = ROOT / "assets" / "digits"


def runner_binary():
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    for path in [os.environ.get("REPALIGN_RUNNER"), target / "release" / "runner", target / "debug" / "runner"]:
        if path and pathlib.Path(path).is_file():
            return str(path)
    return None


def data(n, d, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.normal(size=(n, d))
    x[np.arange(n), y % d] += 1.5
    return x, y


def reference(x, y):
    """The measure by a plain thin SVD of Phi = unit rows of [x, 1], binary +-1 targets."""
    phi = np.hstack([x, np.ones((len(x), 1))])
    phi /= np.linalg.norm(phi, axis=1, keepdims=True)
    t = np.where(y == y.max(), 1.0, -1.0)
    u, s, _ = np.linalg.svd(phi, full_matrices=False)
    keep = s > s[0] * max(phi.shape) * np.finfo(float).eps
    e = (u[:, keep].T @ t) ** 2
    auc = float(np.sum(e * s[keep]) / np.sqrt(len(x)) / np.sum(t * t))
    return s[keep], e, auc


def test_digits_match_runner_align_json():
    runner = runner_binary()
    if runner is None:
        pytest.skip("no runner binary built (cargo build -p runner); set REPALIGN_RUNNER")
    f = np.load(DIGITS / "features.npy")
    y = np.load(DIGITS / "labels.npy")
    out = subprocess.run(
        [runner, "align", "--features", str(DIGITS / "features.npy"), "--labels", str(DIGITS / "labels.npy"), "--json"],
        check=True, capture_output=True, text=True,
    )
    theirs = json.loads(out.stdout)
    ours = alignment(f, y).to_dict()
    # Same functions, same numbers: the runner runs faer on one thread, the package on all the
    # cores, so sums run in another order. The summaries and the curve agree to 1e-12 relative
    # (2e-13 seen). The spectrum is compared as rounding can move it: an eigenvalue of the Gram
    # by a few eps times the largest one (Weyl), so sigma_i^2 to 1e-12 * sigma_max^2 (3e-15
    # seen on AMD EPYC model 17, where sigma_60 = 0.017 then differs by 1e-9 relative), and the
    # energy along a direction whose eigenvalue has close neighbours by more, so each to 1e-10
    # of the total (8e-13 seen).
    spectrum, their_spectrum = ours.pop("spectrum"), theirs.pop("spectrum")
    sigma, their_sigma = np.array(spectrum["sigma"]), np.array(their_spectrum["sigma"])
    energy, their_energy = np.array(spectrum["energy"]), np.array(their_spectrum["energy"])
    assert sigma.shape == their_sigma.shape and energy.shape == their_energy.shape
    lam_max = sigma.max() ** 2
    assert np.abs(sigma**2 - their_sigma**2).max() <= 1e-12 * lam_max
    assert np.abs(energy - their_energy).max() <= 1e-10 * energy.sum()

    def same(a, b, path="report"):
        if isinstance(a, dict):
            assert a.keys() == b.keys(), path
            for k in a:
                same(a[k], b[k], f"{path}.{k}")
        elif isinstance(a, list):
            assert len(a) == len(b), path
            for i, (x, z) in enumerate(zip(a, b)):
                same(x, z, f"{path}[{i}]")
        elif isinstance(a, float):
            assert a == pytest.approx(b, rel=1e-12, abs=1e-300), path
        else:
            assert a == b, path

    same(ours, theirs)
    assert ours["pair_mean_auc"] is not None and ours["task"] == "multiclass"


@pytest.mark.parametrize("n,d", [(400, 12), (25, 60)])  # the Gram path and the kernel path
def test_against_a_plain_svd(n, d):
    x, y = data(n, d)
    s = alignment(x, y)
    sigma, energy, auc = reference(x, y)
    assert s.task == "binary" and s.n == n and s.p == d + 1
    np.testing.assert_allclose(s.sigma, sigma, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(s.energy, energy, rtol=1e-9, atol=1e-9)
    assert abs(s.auc - auc) < 1e-9
    c = s.curve()
    assert len(c["thresholds"]) == 101 and c["alignment"][0] == pytest.approx(s.label_energy)


def test_every_layout_and_dtype_gives_the_same_numbers():
    x, y = data(300, 9, classes=3)
    x32 = x.astype(np.float32)
    base = alignment(x32.astype(np.float64), y)
    big = np.zeros((300, 18), dtype=np.float64)
    big[:, ::2] = x32
    for variant in [x32, x32.astype(np.float64), np.asfortranarray(x32), big[:, ::2], x32.tolist(), x32[::1]]:
        s = alignment(variant, y)
        assert abs(s.auc - base.auc) < 1e-10 and abs(s.pair_mean_auc - base.pair_mean_auc) < 1e-10
    # Fortran order read as C order would give the transpose's numbers: not here.
    assert alignment(np.asfortranarray(x), y).auc == pytest.approx(alignment(x, y).auc, abs=1e-12)
    # Integer labels, float labels, a column of labels.
    assert alignment(x, y.astype(np.float32)).auc == alignment(x, y).auc
    assert alignment(x, y.reshape(-1, 1)).auc == pytest.approx(alignment(x, y).auc, abs=0)


@pytest.mark.parametrize("classes", [2, 4])
def test_streams_in_any_batches_equal_the_whole(classes):
    x, y = data(257, 7, classes=classes, seed=1)
    whole = alignment(x, y)
    for batch in [1, 10, 64, 257]:
        acc = Accumulator(7, range(classes))
        order = list(range(0, 257, batch))[::-1]
        for start in order:
            acc.update(x[start:start + batch], y[start:start + batch])
        s = acc.compute()
        assert acc.rows == 257
        assert abs(s.auc - whole.auc) < 1e-10, batch
        if classes > 2:
            assert abs(s.pair_mean_auc - whole.pair_mean_auc) < 1e-10


def test_merge_equals_one_accumulator():
    x, y = data(500, 5, classes=3, seed=2)
    parts = [Accumulator(5, [0, 1, 2]) for _ in range(3)]
    for i, part in enumerate(parts):
        part.update(x[i::3], y[i::3])
    parts[0].merge(parts[1])
    parts[0].merge(parts[2])
    assert parts[0].rows == 500 and parts[1].rows == 167
    assert abs(parts[0].compute().auc - alignment(x, y).auc) < 1e-12
    with pytest.raises(AlignmentError, match="into itself"):
        parts[0].merge(parts[0])


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda x, y: (np.where(np.arange(x.size).reshape(x.shape) == 13, np.nan, x), y), "row 1, column 3"),
        (lambda x, y: (x, y[:-1]), "19 labels for 20 rows"),
        (lambda x, y: (x[:0], y[:0]), "empty"),
        (lambda x, y: (x[:, 0], y), "must be 2-D"),
        (lambda x, y: (x.reshape(20, 2, 5), y), "flatten each row"),
        (lambda x, y: (x.astype(str), y), "need numbers"),
        (lambda x, y: (x, np.arange(20) + 0.5), "cannot tell the task"),
    ],
)
def test_bad_input_raises_with_a_message(make, message):
    x, y = data(20, 10)
    f, l = make(x, y)
    with pytest.raises(AlignmentError, match=message):
        alignment(f, l)
    assert issubclass(AlignmentError, ValueError)


def test_gpu_tensors_are_refused_with_what_to_do():
    class Device:
        type = "cuda"

        def __str__(self):
            return "cuda:0"

    class FakeCudaTensor:
        device = Device()

        def detach(self):
            raise AssertionError("must not be read")

    with pytest.raises(AlignmentError, match=r"cuda:0: move them to the CPU"):
        alignment(FakeCudaTensor(), np.zeros(3))


def test_a_too_large_accumulator_is_refused_before_it_allocates():
    with pytest.raises(AlignmentError, match="more than max_memory"):
        Accumulator(100_000, range(10))
    bound = Accumulator.memory_bound(64, 10)
    Accumulator(64, range(10), max_memory=bound)
    with pytest.raises(AlignmentError):
        Accumulator(64, range(10), max_memory=bound - 1)


def test_the_gil_is_released_while_measuring():
    x, y = data(3000, 600, seed=3)
    done = threading.Event()
    result = {}

    def work():
        result["s"] = alignment(x, y)
        done.set()

    t = threading.Thread(target=work)
    ticks = 0
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    # Held GIL: the main thread would not wake until the measure returned (one or two ticks).
    assert ticks > 5, ticks
    assert result["s"].auc == alignment(x, y).auc


def test_two_threads_measure_at_once_with_the_same_results():
    x, y = data(2000, 300, seed=4)
    out = [None, None]

    def work(i):
        out[i] = alignment(x, y).auc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out[0] == out[1] == alignment(x, y).auc


def test_version_and_repr():
    x, y = data(50, 4)
    assert repalign.__version__
    assert repr(alignment(x, y)).startswith("Spectrum(task=binary, n=50, p=5, auc=")
