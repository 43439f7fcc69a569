"""The names shared by every layer (solvers, activations, presets, ...), free of torch so the protocol can use them."""

from __future__ import annotations

from typing import Literal

Method = Literal["euler", "midpoint", "rk4"]
Activation = Literal["gelu", "silu", "tanh", "relu"]
TimeSampling = Literal["uniform", "warp", "logit-normal"]
Mode = Literal["pairs", "online"]
Coupling = Literal["independent", "ot"]
PRESET_NAMES = ("gaussian", "two-gaussians", "eight-gaussians", "square", "moons", "circle", "spiral", "heart",
                "smiley", "checkerboard", "cat")
