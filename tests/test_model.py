"""CNN-BiLSTM: shapes for any EEG size, the composed kernel, short inputs, safe log."""

import pytest
import torch

from centerir.model import CNNBiLSTM, min_n_times


@pytest.mark.parametrize(("channels", "times"), [(19, 2500), (8, 500), (3, 50), (64, 1000)])
def test_output_shapes_for_any_channel_count_and_length(channels, times):
    model = CNNBiLSTM(channels, times)
    prediction, features = model(torch.randn(2, 1, channels, times))
    assert prediction.shape == (2, 1)
    assert features.shape == (2, model.n_features)


def test_published_shape_gives_the_published_flatten_size():
    assert CNNBiLSTM(19, 2500).n_features == 22464


def test_too_short_window_raises_with_minimum_length():
    assert min_n_times() == 50
    with pytest.raises(ValueError, match="at least 50 samples"):
        CNNBiLSTM(19, 49)
    CNNBiLSTM(19, 50)


def test_wrong_input_shape_raises():
    model = CNNBiLSTM(19, 500)
    expected = r"x must have shape \(B, 1, 19, 500\), got \(2, 19, 500\)"
    with pytest.raises(ValueError, match=expected):
        model(torch.randn(2, 19, 500))


def test_composed_kernel_computes_the_two_convolution_function():
    torch.manual_seed(0)
    fused = CNNBiLSTM(19, 600).eval()
    separate = CNNBiLSTM(19, 600, fused_conv=False).eval()
    separate.load_state_dict(fused.state_dict())
    x = torch.randn(4, 1, 19, 600)
    with torch.no_grad():
        torch.testing.assert_close(fused.convolve(x), separate.convolve(x), rtol=1e-5, atol=1e-5)
        for a, b in zip(fused(x), separate(x), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_gradients_reach_both_convolution_weights():
    model = CNNBiLSTM(5, 200)
    prediction, _ = model(torch.randn(3, 1, 5, 200))
    prediction.sum().backward()
    for weight in (model.temporal.weight, model.spatial.weight):
        assert weight.grad is not None and weight.grad.abs().sum() > 0
    separate = CNNBiLSTM(5, 200, fused_conv=False)
    separate.load_state_dict(model.state_dict())
    torch.manual_seed(1)
    x = torch.randn(3, 1, 5, 200)
    for net in (model, separate):
        net.zero_grad()
        net.eval()
        net(x)[0].sum().backward()
    torch.testing.assert_close(
        model.temporal.weight.grad, separate.temporal.weight.grad, rtol=1e-4, atol=1e-6
    )
    torch.testing.assert_close(
        model.spatial.weight.grad, separate.spatial.weight.grad, rtol=1e-4, atol=1e-6
    )


@pytest.mark.parametrize("value", [0.0, 3.0])
def test_flat_or_zero_windows_give_finite_outputs(value):
    model = CNNBiLSTM(4, 120)
    x = torch.full((3, 1, 4, 120), value)
    for mode in (model.train, model.eval):
        mode()
        prediction, features = model(x)
        assert torch.isfinite(prediction).all() and torch.isfinite(features).all()
    prediction.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n_filters": 0}, "n_filters must be an int >= 1"), ({"dropout": 1.0}, "dropout must be")],
)
def test_bad_hyperparameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CNNBiLSTM(19, 500, **kwargs)


def test_configure_runtime_sets_threads_and_resolves_mkl_vector_math(monkeypatch):
    from centerir import runtime

    calls = []
    monkeypatch.setattr(runtime, "resolve_vector_math", lambda: calls.append(1))
    threads = torch.get_num_threads()
    try:
        runtime.configure_runtime(threads=1)
        assert calls == [1] and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    with pytest.raises(ValueError, match="threads must be >= 1"):
        runtime.configure_runtime(threads=0)


def test_vector_math_warm_up_calls_every_op_once_per_dtype(monkeypatch):
    from centerir import cpu_math

    seen = []
    for name in cpu_math.VML_UNARY_OPS:
        real = getattr(torch, name)
        monkeypatch.setattr(
            torch, name, lambda x, real=real, name=name: seen.append((name, x.dtype)) or real(x)
        )
    cpu_math.resolve_vector_math.cache_clear()
    cpu_math.resolve_vector_math()
    cpu_math.resolve_vector_math()  # cached: no second round
    expected = [(n, d) for d in (torch.float32, torch.float64) for n in cpu_math.VML_UNARY_OPS]
    assert seen == expected
    assert "log" in cpu_math.VML_UNARY_OPS  # the op the model's safe_log uses
