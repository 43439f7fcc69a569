"""A scene message made into tensors: its pairs (x0, x1) and the presets they were drawn from, if any."""

from __future__ import annotations

import torch

from rftoy.engine import data
from rftoy.protocol import PointsScene, PresetScene


def materialize(scene: PresetScene | PointsScene) -> tuple[torch.Tensor, torch.Tensor, str | None, str | None]:
    """(x0, x1, source, target) of a scene message; preset scenes are drawn from their seed."""
    if isinstance(scene, PresetScene):
        gen = data.generator(scene.seed)
        return data.sample(scene.source, scene.n, gen), data.sample(scene.target, scene.n, gen), scene.source, \
            scene.target
    return data.points_from(scene.x0), data.points_from(scene.x1), scene.source, scene.target
