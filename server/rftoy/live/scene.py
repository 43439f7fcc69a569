"""A scene message made into tensors: its pairs (x0, x1) and the presets they were drawn from, if any."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch

from rftoy.engine import data
from rftoy.protocol import PointsScene, PresetScene, points_scene
from rftoy.vocab import Placement, placed


class Materialized(NamedTuple):
    """A scene's pairs, the preset names it was drawn from (None for drawn points) and their placement."""

    x0: torch.Tensor
    x1: torch.Tensor
    source: str | None
    target: str | None
    placement: Placement

    def as_points(self) -> dict[str, Any]:
        """The scene as explicit points (how scenes are sent and stored)."""
        return points_scene(self.x0.tolist(), self.x1.tolist(), self.source, self.target, self.placement)

    def sampled_names(self) -> tuple[str, str] | None:
        """The names online mode draws fresh (source, target) pairs by (`rftoy.vocab.placed`), if it can."""
        if self.source is None or self.target is None:
            return None
        return placed(self.source, "source", self.placement), placed(self.target, "target", self.placement)


def materialize(scene: PresetScene | PointsScene) -> Materialized:
    """The pairs and presets of a scene message; preset scenes are drawn from their seed."""
    if isinstance(scene, PresetScene):
        gen = data.generator(scene.seed)
        x0 = data.sample(placed(scene.source, "source", scene.placement), scene.n, gen)
        x1 = data.sample(placed(scene.target, "target", scene.placement), scene.n, gen)
        return Materialized(x0, x1, scene.source, scene.target, scene.placement)
    return Materialized(data.points_from(scene.x0), data.points_from(scene.x1), scene.source, scene.target,
                        scene.placement)
