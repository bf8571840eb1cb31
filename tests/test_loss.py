"""CenterIR loss: hand-worked values, the per-group reference, stability, gradients, policies."""

import math

import numpy as np
import pytest
import torch

from centerir.bins import LabelBins
from centerir.loss import CenterIRLoss, group_weights
from tests.reference_centerir import loop_centerir


def skewed_labels(rng, n):
    """Integer scores 0..15, most of them low (like the Geriatric Depression Scale)."""
    return np.minimum(rng.geometric(0.25, n) - 1, 15).astype(np.float64)


def test_bins_match_numpy_histogram_and_drop_empty_bins():
    labels = np.array([0, 0, 1, 3, 3, 3, 7.0])
    bins = LabelBins.fit(labels, boundaries=7)
    counts, edges = np.histogram(labels, bins=7)
    np.testing.assert_array_equal(bins.edges, edges)
    np.testing.assert_array_equal(bins.counts, counts)
    assert bins.n_kept == 4  # bins of 0, 1, 3 and the closed last bin holding 7
    np.testing.assert_array_equal(bins.kept_counts, [2, 1, 3, 1])
    # the last bin is closed, every other half-open
    np.testing.assert_array_equal(
        bins.bin_index(np.array([7.0, 6.999, 5.5, 1.0, -0.1, 7.1])), [6, 6, 5, 1, -1, -1]
    )
    np.testing.assert_array_equal(bins.bin_index(np.array([-5.0, 9.0]), clip=True), [0, 6])


def test_group_weights_formula():
    np.testing.assert_allclose(group_weights(np.array([10, 4, 1])), [0.0, 6 / 9, 1.0])
    np.testing.assert_array_equal(group_weights(np.array([5, 5, 5])), [0, 0, 0])


def test_hand_worked_value_with_k1_and_k2():
    # training labels 0,0,0,1,2,2 -> 3 equal-width bins, counts (3, 1, 2), all kept
    loss = CenterIRLoss.from_labels(np.array([0, 0, 0, 1, 2, 2.0]), boundaries=3, k=(1, 2))
    assert loss.n_kept == 3
    # k=1: weights (0, 1, 0.5); k=2: groups {0,1}: 4 samples, {2}: 2 -> weights (0, 1)
    features = torch.tensor([[0.0, 0.0], [2.0, 0.0], [5.0, 5.0], [1.0, 1.0], [3.0, 1.0]])
    labels = torch.tensor([0.0, 0.0, 1.0, 2.0, 2.0])
    # k=1: bin0 {0,2}: center (1,0), mean sq dist 1 -> exp(0)*1; bin1 single: skipped;
    #      bin2 {(1,1),(3,1)}: center (2,1), mean 1 -> exp(0.5)*1. Mean over 2 groups.
    k1 = (1.0 + math.exp(0.5)) / 2
    # k=2: group0 = samples 0,1,2: center (7/3, 5/3); group1 = samples 3,4: 1 * exp(1)
    pts = np.array([[0, 0], [2, 0], [5, 5.0]])
    g0 = ((pts - pts.mean(0)) ** 2).sum(1).mean()
    k2 = (g0 * math.exp(0.0) + 1.0 * math.exp(1.0)) / 2
    assert loss(features, labels).item() == pytest.approx(k1 + k2, rel=1e-6)


def test_skipped_group_keeps_its_own_center_and_weight():
    # bins 0..3 all kept; the batch has nothing in bin 1, so the published code would give
    # bin 2's samples the center and weight of bin 1. Here bin 2 keeps weight w_2.
    train = np.array([0, 0, 0, 0, 1, 1, 1, 2, 3, 3.0])
    loss = CenterIRLoss.from_labels(train, boundaries=4, k=(1,))
    w = group_weights(np.array([4, 3, 1, 2]))
    features = torch.tensor([[0.0], [2.0], [10.0], [14.0]])
    labels = torch.tensor([0.0, 0.0, 2.0, 2.0])
    expected = (math.exp(w[0]) * 1.0 + math.exp(w[2]) * 4.0) / 2
    assert loss(features, labels).item() == pytest.approx(expected, rel=1e-6)


def test_no_group_with_two_samples_gives_zero_not_an_error():
    loss = CenterIRLoss.from_labels(np.arange(16.0), boundaries=16, k=(1,))
    features = torch.randn(4, 8, requires_grad=True)
    value = loss(features, torch.tensor([0.0, 3.0, 7.0, 15.0]))
    assert value.item() == 0.0
    value.backward()
    assert torch.all(features.grad == 0)


def test_labels_outside_kept_bins_are_ignored():
    loss = CenterIRLoss.from_labels(np.array([0, 0, 2, 2.0]), boundaries=3, k=(1,))
    features = torch.tensor([[0.0], [2.0], [100.0], [-50.0]])
    with_outsiders = loss(features, torch.tensor([0.0, 0.0, 1.0, 9.0]))  # 1.0: empty bin
    alone = loss(features[:2], torch.tensor([0.0, 0.0]))
    assert with_outsiders.item() == pytest.approx(alone.item())


@pytest.mark.parametrize("k", [(1, 3, 5, 15), (1, 2, 4, 8), (3,), (7, 2)])
def test_matches_per_group_loop_on_skewed_batches(k):
    rng = np.random.default_rng(0)
    train = skewed_labels(rng, 400)
    loss = CenterIRLoss.from_labels(train, boundaries=16, k=k)
    for _ in range(10):
        labels = skewed_labels(rng, 32)
        features = torch.randn(32, 64)
        ours = loss(features, torch.from_numpy(labels).float().unsqueeze(1))
        reference = loop_centerir(features.double(), labels, train, 16, k)
        assert ours.item() == pytest.approx(reference.item(), rel=1e-5)


def test_gradient_matches_autograd_of_the_loop():
    rng = np.random.default_rng(1)
    train = skewed_labels(rng, 300)
    labels = skewed_labels(rng, 24)
    loss = CenterIRLoss.from_labels(train, boundaries=16, k=(1, 3, 5, 15))
    ours = torch.randn(24, 10, dtype=torch.float64, requires_grad=True)
    theirs = ours.detach().clone().requires_grad_(True)
    loss(ours, torch.from_numpy(labels)).backward()
    loop_centerir(theirs, labels, train, 16, (1, 3, 5, 15)).backward()
    torch.testing.assert_close(ours.grad, theirs.grad, rtol=1e-10, atol=1e-12)


def test_gradcheck_float64():
    rng = np.random.default_rng(2)
    train = skewed_labels(rng, 200)
    labels = torch.from_numpy(skewed_labels(rng, 12))
    loss = CenterIRLoss.from_labels(train, boundaries=16, k=(1, 2, 4))
    features = torch.randn(12, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda f: loss(f, labels), (features,))


def test_stable_for_large_offsets_in_float32():
    rng = np.random.default_rng(3)
    train = skewed_labels(rng, 300)
    labels = skewed_labels(rng, 32)
    loss = CenterIRLoss.from_labels(train, boundaries=16, k=(1, 3, 5, 15))
    noise = rng.normal(scale=1e-2, size=(32, 256))
    features64 = torch.from_numpy(1000.0 + noise)
    reference = loop_centerir(features64, labels, train, 16, (1, 3, 5, 15)).item()
    ours = loss(features64.float(), torch.from_numpy(labels).float()).item()
    assert reference > 0
    assert ours == pytest.approx(reference, rel=1e-4)


def test_returns_scalar_on_features_dtype():
    loss = CenterIRLoss.from_labels(np.arange(10.0), boundaries=5, k=(1,))
    value = loss(torch.randn(6, 3, dtype=torch.float64), torch.tensor([0, 0, 1, 1, 9, 9.0]))
    assert value.shape == () and value.dtype == torch.float64


def test_strict_remainder_raises_with_kept_count_and_divisors():
    # 16 boundaries on 0..15 with no 9 in training: 15 kept bins
    train = np.array([v for v in range(16) if v != 9], dtype=float)
    with pytest.raises(ValueError, match=r"15 kept bins, but k=\[4\].*divide 15: \[1, 3, 5, 15\]"):
        CenterIRLoss.from_labels(train, boundaries=16, k=(1, 3, 4), remainder="strict")
    strict = CenterIRLoss.from_labels(train, boundaries=16, k=(1, 3, 5, 15), remainder="strict")
    assert strict.n_kept == 15


def test_group_remainder_forms_a_smaller_last_group():
    train = np.arange(16.0)  # 16 kept bins, k=5 -> groups of 5, 5, 5, 1
    loss = CenterIRLoss.from_labels(train, boundaries=16, k=(5,), remainder="group")
    assert loss.n_groups(5) == 4
    np.testing.assert_array_equal(loss.weights_per_k[0], [0, 0, 0, 1])
    # the last, one-bin group (label 15) still counts when it has two samples
    features = torch.tensor([[0.0], [4.0]])
    value = loss(features, torch.tensor([15.0, 15.0]))
    assert value.item() == pytest.approx(math.exp(1.0) * 4.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": ()}, "empty k set"),
        ({"k": (0, 1)}, "every k must be an int >= 1"),
        ({"k": (1, 1)}, "must not repeat"),
        ({"boundaries": 0}, "boundaries must be >= 1"),
        ({"remainder": "drop"}, "remainder must be one of"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CenterIRLoss.from_labels(np.arange(10.0), **kwargs)
