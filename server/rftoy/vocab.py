"""The names shared by every layer (solvers, activations, presets, ...), free of torch so the protocol can use them."""

from __future__ import annotations

from typing import Literal

Method = Literal["euler", "midpoint", "rk4"]
Activation = Literal["gelu", "silu", "tanh", "relu"]
TimeSampling = Literal["uniform", "warp", "logit-normal"]
Mode = Literal["pairs", "online"]
Coupling = Literal["independent", "ot"]
Placement = Literal["apart", "overlaid"]  # a preset scene's source left and target right of the origin, or both on it
PLACEMENT_SHIFT = 2.5  # apart: the source is drawn this far left of the origin and the target this far right
PRESET_NAMES = ("gaussian", "two-gaussians", "eight-gaussians", "square", "moons", "circle", "spiral", "heart",
                "smiley", "checkerboard", "cat")


def placed(name: str, role: Literal["source", "target"], placement: Placement) -> str:
    """The name `rftoy.engine.data.sample` draws a scene's `role` preset by: `name` itself when overlaid,
    `name@left` (the source) or `name@right` (the target) when apart."""
    if placement == "overlaid":
        return name
    return f"{name}@{'left' if role == 'source' else 'right'}"
