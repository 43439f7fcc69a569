"""The velocity MLP v(x, y, t) and its one flat weight layout (docs/engine.md, "Weight layout").

Layout (read by the WGSL and JS forward passes too): for each linear layer in order, its weight matrix W
(out × in, row-major) and then its bias b, all float32, concatenated. The input is (x, y, t) with no extra
time features; every hidden layer is followed by the activation; the output layer (2 units) is linear.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from rftoy.vocab import Activation

INPUT_DIM = 3
OUTPUT_DIM = 2
Net = TypeVar("Net", bound=nn.Module)

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": partial(F.gelu, approximate="tanh"),
    "silu": F.silu,
    "tanh": torch.tanh,
    "relu": F.relu,
}
def gelu_in_place(h: torch.Tensor) -> torch.Tensor:
    """The tanh GELU as x·sigmoid(2√(2/π)(x + 0.044715x³)): the same function in four passes over memory, faster on
    CPUs whose tanh kernel is slow (docs/engine.md, "Measurements behind the code"). Written for TorchScript too
    (rftoy.engine.stacked_trace), which takes no global constants."""
    scale = torch.full((1,), 1.5957691216057308, dtype=h.dtype, device=h.device)
    gate = torch.addcmul(scale, h, h, value=0.044715 * 1.5957691216057308)
    gate.mul_(h).sigmoid_()
    return h.mul_(gate)


# For inference only (no autograd): each overwrites its argument, a layer's fresh output.
ACTIVATIONS_IN_PLACE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": gelu_in_place,
    "silu": partial(F.silu, inplace=True),
    "tanh": torch.tanh_,
    "relu": torch.relu_,
}


@dataclass(frozen=True)
class NetShape:
    """Hidden width, number of hidden layers, and activation ('gelu' is the tanh approximation)."""

    width: int = 64
    depth: int = 3
    activation: Activation = "silu"

    def layer_dims(self) -> list[tuple[int, int]]:
        """(in, out) of each linear layer, in order."""
        dims = [INPUT_DIM] + [self.width] * self.depth + [OUTPUT_DIM]
        return list(itertools.pairwise(dims))

    def parameter_count(self) -> int:
        return sum(i * o + o for i, o in self.layer_dims())


class VelocityMLP(nn.Module):
    """v(x, t): points (n, 2) and times (n,) or a scalar to velocities (n, 2)."""

    def __init__(self, shape: NetShape) -> None:
        super().__init__()
        if shape.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {shape.activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        self.shape = shape
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in shape.layer_dims())
        # W, b of each layer in the flat layout's order, without a walk of the module tree (moving the net to a
        # device or loading weights keeps these tensor objects)
        self.ordered_parameters: tuple[nn.Parameter, ...] = tuple(
            p for layer in self.layers for p in (layer.weight, layer.bias))

    def forward(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        return mlp_forward([(layer.weight, layer.bias) for layer in self.layers], self.shape.activation, x, t)


def mlp_forward(layers: list[tuple[torch.Tensor, torch.Tensor]], activation: str, x: torch.Tensor,
                t: torch.Tensor | float) -> torch.Tensor:
    """The net's function on its (W, b) per layer: in-place activations when no gradient is recorded."""
    t = torch.as_tensor(t, dtype=x.dtype, device=x.device).expand(x.shape[0])
    h = torch.cat([x, t[:, None]], dim=1)
    act = ACTIVATIONS[activation] if torch.is_grad_enabled() else ACTIVATIONS_IN_PLACE[activation]
    for weight, bias in layers[:-1]:
        h = act(F.linear(h, weight, bias))
    return F.linear(h, *layers[-1])


def frozen_velocity(model: VelocityMLP) -> Callable[[torch.Tensor, torch.Tensor | float], torch.Tensor]:
    """The net's current function with its weights copied: cheap to make, and unchanged while training goes on."""
    with torch.no_grad():
        layers = [(layer.weight.clone(), layer.bias.clone()) for layer in model.layers]
    activation = model.shape.activation
    return lambda x, t: mlp_forward(layers, activation, x, t)


def flat_weights(model: VelocityMLP) -> torch.Tensor:
    """The flat float32 weight array in the documented layout, on the net's device."""
    with torch.no_grad():
        return torch.cat([p.reshape(-1) for p in model.ordered_parameters]).float()


def export_weights(model: VelocityMLP) -> torch.Tensor:
    """The flat float32 weight array (on the CPU) in the documented layout."""
    return flat_weights(model).cpu()


def import_weights(model: VelocityMLP, flat: torch.Tensor) -> None:
    """Load a flat array written by `export_weights` into `model` in place."""
    expected = model.shape.parameter_count()
    if flat.numel() != expected:
        raise ValueError(f"weight array has {flat.numel()} values, the net needs {expected}")
    offset = 0
    with torch.no_grad():
        for layer in model.layers:
            for param in (layer.weight, layer.bias):
                n = param.numel()
                param.copy_(flat[offset : offset + n].view_as(param))
                offset += n


def clone_model(model: VelocityMLP) -> VelocityMLP:
    """The net's weights in a new net (a student from its teacher, an average), without gradients; it draws nothing
    from torch's global generator, which threads share."""
    copy = deepcopy(model)
    for parameter in copy.parameters():
        parameter.grad = None
    return copy


def seeded(build: Callable[[], Net], gen: torch.Generator) -> Net:
    """The module `build` makes, its linear layers drawn from `gen` as nn.Linear draws them from the global
    generator (so a generator seeded s gives the weights that torch.manual_seed(s) would).

    Torch's global generator is left as it was: whatever `build` draws from it is drawn from a fork and undone.
    """
    with torch.random.fork_rng(devices=[]):
        module = build()
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=gen)
                if layer.bias is not None:
                    bound = 1 / math.sqrt(layer.in_features)
                    nn.init.uniform_(layer.bias, -bound, bound, generator=gen)
    return module
