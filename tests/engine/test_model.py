"""The velocity MLP and its flat weight layout."""

import pytest
import torch
from rftoy.engine.model import (
    ACTIVATIONS,
    ACTIVATIONS_IN_PLACE,
    NetShape,
    VelocityMLP,
    clone_model,
    export_weights,
    frozen_velocity,
    import_weights,
)


@pytest.mark.parametrize("activation", ["gelu", "silu", "tanh", "relu"])
def test_export_import_round_trip(activation: str) -> None:
    torch.manual_seed(0)
    shape = NetShape(16, 2, activation)
    source, target = VelocityMLP(shape), VelocityMLP(shape)
    flat = export_weights(source)
    assert flat.dtype == torch.float32 and flat.numel() == shape.parameter_count()
    import_weights(target, flat)
    x, t = torch.randn(20, 2), torch.rand(20)
    assert torch.equal(source(x, t), target(x, t))
    assert torch.equal(export_weights(target), flat)


def test_layout_is_w_row_major_then_b_per_layer() -> None:
    model = VelocityMLP(NetShape(4, 1, "tanh"))
    flat = export_weights(model)
    first, second = model.layers
    assert torch.equal(flat[:12], first.weight.detach().reshape(-1))
    assert torch.equal(flat[12:16], first.bias.detach())
    assert torch.equal(flat[16:24], second.weight.detach().reshape(-1))
    assert torch.equal(flat[24:], second.bias.detach())
    assert NetShape(4, 1).layer_dims() == [(3, 4), (4, 2)]


def test_forward_by_hand_matches_the_layout() -> None:
    torch.manual_seed(3)
    model = VelocityMLP(NetShape(8, 2, "silu"))
    flat = export_weights(model)
    x, t = torch.tensor([[0.3, -1.2]]), 0.25
    h = torch.tensor([0.3, -1.2, 0.25])
    offset = 0
    for index, (n_in, n_out) in enumerate(model.shape.layer_dims()):
        w = flat[offset : offset + n_in * n_out].view(n_out, n_in)
        b = flat[offset + n_in * n_out : offset + n_in * n_out + n_out]
        offset += n_in * n_out + n_out
        h = w @ h + b
        if index < model.shape.depth:
            h = torch.nn.functional.silu(h)
    assert torch.allclose(model(x, t)[0], h, atol=1e-6)


def test_gelu_is_the_tanh_approximation() -> None:
    h = torch.linspace(-3, 3, 7)
    expected = 0.5 * h * (1 + torch.tanh((2 / torch.pi) ** 0.5 * (h + 0.044715 * h**3)))
    assert torch.allclose(ACTIVATIONS["gelu"](h), expected, atol=1e-6)
    assert torch.allclose(ACTIVATIONS_IN_PLACE["gelu"](h.clone()), expected, atol=1e-6)


def test_a_frozen_velocity_keeps_the_function_it_was_made_from() -> None:
    torch.manual_seed(0)
    model = VelocityMLP(NetShape(12, 2, "gelu"))
    x, t = torch.randn(9, 2), torch.rand(9)
    frozen = frozen_velocity(model)
    before = model(x, t).detach()
    assert torch.allclose(frozen(x, t), before, atol=1e-6)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    assert torch.allclose(frozen(x, t), before, atol=1e-6)
    assert not torch.allclose(model(x, t), before, atol=1e-3)


def test_bad_sizes_and_names_are_refused() -> None:
    model = VelocityMLP(NetShape(8, 2))
    with pytest.raises(ValueError, match="needs"):
        import_weights(model, torch.zeros(5))
    with pytest.raises(ValueError, match="unknown activation"):
        VelocityMLP(NetShape(8, 2, "swish"))


def test_clone_copies_weights_into_a_new_net() -> None:
    model = VelocityMLP(NetShape(8, 2))
    copy = clone_model(model)
    assert copy is not model
    assert torch.equal(export_weights(copy), export_weights(model))
    with torch.no_grad():
        copy.layers[0].bias.add_(1.0)
    assert not torch.equal(export_weights(copy), export_weights(model))


@pytest.mark.parametrize("activation", ["gelu", "silu", "tanh", "relu"])
def test_inference_activations_match_the_trained_ones(activation: str) -> None:
    """Without autograd the net uses in-place activations (GELU in its sigmoid form); outputs agree."""
    x = torch.linspace(-9, 9, 20001)
    assert torch.allclose(ACTIVATIONS_IN_PLACE[activation](x.clone()), ACTIVATIONS[activation](x), atol=1e-6)
    torch.manual_seed(0)
    model = VelocityMLP(NetShape(16, 2, activation))
    points, times = torch.randn(50, 2), torch.rand(50)
    with torch.no_grad():
        fast = model(points, times)
    assert torch.allclose(fast, model(points, times), atol=1e-6)
