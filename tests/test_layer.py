"""lucky5.layer.Layer, the trained layer as a value, against independent computations.

Oracles: ``math.fsum`` over the weights' float64 squares for ‖w‖; ``nn.Linear``'s own forward pass (in
float64) for the prediction; the distance written out with ``math.fsum``; the fingerprint's definition
(sha256 of the float32 bytes, weights then bias) recomputed from the raw record with NumPy.
"""

from __future__ import annotations

import hashlib
import math

import pytest
import torch
from torch import nn

from lucky5 import Config, checkpoint, theory, train, train_many
from lucky5.layer import Layer, distances, norms


@pytest.fixture(scope="module")
def runs():
    """The post's run, a diverged one (finite weights near 1e19) and one with weight decay."""
    return [train(Config(epochs=120, seed=4)), train(Config(lr=0.5)), train(Config(epochs=80, weight_decay=0.05))]


def fsum_norm(values: list[float]) -> float:
    return math.sqrt(math.fsum(v * v for v in values))


def test_the_trained_layer_is_the_last_row_of_the_record(runs):
    for h in runs:
        layer = h.trained
        assert layer.weight.shape == (10,) and layer.weight.dtype == torch.float32
        assert torch.equal(layer.weight, h.weights[-1]) and layer.bias == h.biases[-1].item()
        assert layer.weight.data_ptr() != h.weights[-1].data_ptr()  # a copy: never the record's memory
    assert runs[1].diverged_at is not None and torch.isfinite(runs[1].trained.weight).all()


def test_epoch_k_is_the_layer_after_k_epochs():
    config = Config(epochs=30, seed=2)
    h = train(config)
    assert Layer.of(h, 0) == Layer.of(train(config.replace(epochs=1)), 0)  # the initialisation
    for k in (1, 7, 30):
        assert Layer.of(h, k) == train(config.replace(epochs=k)).trained
    assert Layer.of(h) == Layer.of(h, 30) == h.trained
    for bad in (-1, 31, 2.0, True):
        with pytest.raises(ValueError, match="epoch"):
            Layer.of(h, bad)  # type: ignore[arg-type]


def test_norm_is_float64_and_finite_where_float32_overflows(runs):
    for h in runs:
        assert h.trained.norm == pytest.approx(fsum_norm(h.weights[-1].double().tolist()), rel=1e-15)
    diverged = runs[1].trained
    assert math.isinf(float(diverged.weight.norm())) and math.isfinite(diverged.norm)  # float32 overflows
    rows = norms(runs[0].weights)
    assert rows.dtype == torch.float64 and rows.shape == (runs[0].steps + 1,)
    assert rows.tolist() == pytest.approx([fsum_norm(r) for r in runs[0].weights.double().tolist()], rel=1e-15)


def test_predict_matches_nn_linear_forward_for_one_input_and_a_batch(runs):
    x = torch.rand(64, 10, generator=torch.Generator().manual_seed(9), dtype=torch.float64) * 4 - 1
    for h in runs:
        layer = h.trained
        linear = nn.Linear(10, 1).double()
        with torch.no_grad():
            linear.weight.copy_(h.weights[-1].double().unsqueeze(0))
            linear.bias.fill_(h.biases[-1].item())
            expected = linear(x).reshape(64)
        batch = layer.predict(x)
        assert batch.shape == (64,) and batch.dtype == torch.float64
        torch.testing.assert_close(batch, expected, rtol=1e-12, atol=0)
        one = layer.predict(x[5])
        assert one.shape == () and float(one) == pytest.approx(float(expected[5]), rel=1e-12)


def test_module_is_a_fresh_float32_linear_that_predicts_like_the_layer(runs):
    layer = runs[0].trained
    module = layer.module()
    assert isinstance(module, nn.Linear) and module.weight.dtype == torch.float32
    assert torch.equal(module.weight[0].detach(), runs[0].weights[-1]) and module.bias.item() == layer.bias
    x = torch.rand(8, 10, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(module(x).reshape(8).double(), layer.predict(x), rtol=1e-6, atol=1e-6)
        module.weight.zero_()
    assert layer.module().weight.abs().sum() > 0  # never shared


def test_distance_to_the_optimum_is_the_euclidean_distance_in_all_eleven_parameters(runs):
    for h in runs:
        best = theory.optimum_for(h.config)
        w, b = h.weights[-1].double().tolist(), h.biases[-1].item()
        gaps = [wi - bi for wi, bi in zip(w, best.weight.tolist(), strict=True)] + [b - best.bias]
        assert h.trained.distance_to(best) == pytest.approx(fsum_norm(gaps), rel=1e-14)
    # to another layer, and to itself
    a, b = runs[0].trained, runs[2].trained
    assert a.distance_to(a) == 0.0 and a.distance_to(b) == pytest.approx(b.distance_to(a), rel=1e-15)
    # the page's ledger and theory's explanation read the same number
    assert runs[2].trained.distance_to(theory.optimum_for(runs[2].config)) == (
        theory.why_not_five(runs[2]).distance_to_optimum
    )


def test_distances_over_rows_agree_with_each_rows_layer():
    h = train(Config(epochs=40, seed=3))
    best = theory.optimum_for(h.config)
    rows = distances(h.weights, h.biases, best)
    assert rows.shape == (41,) and rows.dtype == torch.float64
    assert rows.tolist() == pytest.approx([Layer.of(h, k).distance_to(best) for k in range(41)], rel=1e-14)


def test_fingerprint_is_the_documented_hash_of_the_float32_bytes():
    for h in train_many(Config(epochs=25), seeds=range(4)):
        data = h.weights[-1].numpy().tobytes() + h.biases[-1:].numpy().tobytes()
        assert h.trained.fingerprint() == h.fingerprint() == hashlib.sha256(data).hexdigest()[:12]


def test_from_tensors_takes_a_checkpoints_shapes_and_refuses_other_counts(runs):
    loaded = checkpoint.load(checkpoint.to_bytes(runs[0]))
    assert loaded.weight.shape == (1, 10) and loaded.trained == runs[0].trained
    assert checkpoint.load(checkpoint.to_bytes(loaded.trained, runs[0].config)).trained == runs[0].trained
    widened = Layer.from_tensors(runs[0].weights[-1].double(), runs[0].biases[-1].double())
    assert widened == runs[0].trained and widened.weight.dtype == torch.float32
    assert hash(widened) == hash(runs[0].trained)
    for weight, bias in ((torch.zeros(9), 0.0), (torch.zeros(1, 10), torch.zeros(2))):
        with pytest.raises(ValueError, match="10 weights and 1 bias"):
            Layer.from_tensors(weight, bias)
