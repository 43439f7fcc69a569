"""A scene (preset or explicit points) and the session's Config, with their limits checked against the settings
passed as validation context."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    TypeAdapter,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from rftoy.protocol.bounds import field_bounds, points_bound, refuse
from rftoy.protocol.wire import SEED_LIMIT, Integer, Number, Point, Strict, _check_point, _check_preset, _limits
from rftoy.settings import Settings
from rftoy.vocab import Activation, Coupling, Method, Mode, Placement, TimeSampling


class PresetScene(Strict):
    """n samples of `source` paired i ↔ i with n samples of `target`, drawn from `seed`; `placement` "apart" draws
    the source left of the origin and the target right of it (rftoy.vocab.placed), "overlaid" both on it."""

    kind: Literal["preset"] = "preset"
    source: str = "gaussian"
    target: str = "moons"
    n: Integer = Field(64, ge=1)
    seed: Integer = Field(0, ge=0, lt=SEED_LIMIT)
    placement: Placement = "apart"

    @field_validator("source", "target")
    @classmethod
    def _known(cls, name: str) -> str:
        return _check_preset(name)

    @field_validator("n")
    @classmethod
    def _n_limit(cls, n: int, info: ValidationInfo) -> int:
        limits = _limits(info)
        if not limits.min_points <= n <= limits.max_points:
            raise refuse(points_bound(limits))
        return n


class PointsScene(Strict):
    """Explicit pairs (x0[i], x1[i]); the optional preset names (placed as `placement` says) let online mode sample
    fresh pairs. Points scenes stored before placements existed had their presets overlaid."""

    kind: Literal["points"] = "points"
    x0: list[Point]
    x1: list[Point]
    source: str | None = None
    target: str | None = None
    placement: Placement = "overlaid"

    @field_validator("source", "target")
    @classmethod
    def _known(cls, name: str | None) -> str | None:
        return _check_preset(name)

    @field_validator("x0", "x1", mode="before")
    @classmethod
    def _count_first(cls, points: Any, info: ValidationInfo) -> Any:
        """The count is checked before any point is: a huge cloud is refused without validating its points."""
        limit = _limits(info).max_points
        if isinstance(points, list) and len(points) > limit:
            raise ValueError(f"{len(points)} points; a cloud holds 1 to {limit}")
        return points

    @field_validator("x0", "x1")
    @classmethod
    def _points(cls, points: list[Point], info: ValidationInfo) -> list[Point]:
        limits = _limits(info)
        if not 1 <= len(points) <= limits.max_points:
            raise ValueError(f"{len(points)} points; a cloud holds 1 to {limits.max_points}")
        for point in points:
            _check_point(point, limits.max_coordinate)
        return points

    @model_validator(mode="after")
    def _paired(self) -> PointsScene:
        if len(self.x0) != len(self.x1):
            raise ValueError(f"x0 has {len(self.x0)} points and x1 has {len(self.x1)}; they pair i ↔ i")
        return self


Scene = Annotated[PresetScene | PointsScene, Field(discriminator="kind")]


def points_scene(x0: list[Point], x1: list[Point], source: str | None, target: str | None,
                 placement: Placement) -> dict[str, Any]:
    """A points scene as plain data (how scenes are sent and stored)."""
    return {"kind": "points", "x0": x0, "x1": x1, "source": source, "target": target, "placement": placement}


class Config(Strict):
    """Everything the user can set in a live session (docs/protocol.md, 'Config')."""

    width: Integer = Field(64, ge=1)
    depth: Integer = Field(3, ge=1)
    activation: Activation = "silu"
    seed: Integer = Field(0, ge=0, lt=SEED_LIMIT)
    lr: Number = Field(0.005, gt=0, le=1)
    batch: Integer = Field(256, ge=1)
    time_sampling: TimeSampling = "uniform"
    warp_s: Number = Field(1.0, ge=0, le=1.5)
    mode: Mode = "pairs"
    coupling: Coupling = "independent"
    solver: Method = "midpoint"
    steps: Integer = Field(16, ge=1)


def defaults() -> dict[str, Any]:
    """What a session starts from when hello names no scene or setting (`ready.defaults`): the preset scene's
    source, target, n and seed, and every Config field."""
    return {"scene": PresetScene().model_dump(exclude={"kind"}), "config": Config().model_dump()}


NET_FIELDS = frozenset({"width", "depth", "activation", "seed"})
TRAIN_FIELDS = frozenset({"lr", "batch", "time_sampling", "warp_s", "mode"})


class _Patch(Strict):
    """A partial Config: only the fields present change."""

    @model_validator(mode="after")
    def _within_limits(self, info: ValidationInfo) -> _Patch:
        limits = _limits(info)
        for name, value, limit in (("width", self.width, limits.max_width), ("depth", self.depth, limits.max_depth),
                                   ("steps", self.steps, limits.max_solver_steps),
                                   ("batch", self.batch, limits.max_points)):
            if value is not None and value > limit:
                raise refuse(field_bounds(name, Config.model_fields[name], limit))
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)

    def apply(self, config: Config) -> Config:
        return config.model_copy(update=self.changes())


def _optional(field: FieldInfo) -> tuple[Any, FieldInfo]:
    """A Config field as an optional patch field: same type and limits, absent (None) by default."""
    return field.annotation | None, FieldInfo.merge_field_infos(field, default=None)


# Config's fields, each optional with the same type and limits.
ConfigPatch = create_model("ConfigPatch", __base__=_Patch, __doc__=_Patch.__doc__,
                           **{name: _optional(field) for name, field in Config.model_fields.items()})


class SceneBody(Strict):
    """The POST /api/scenes body before its limits are checked (`validate_scene`, `validate_patch`)."""

    scene: dict[str, Any]
    config: dict[str, Any] | None = None


def validate_scene(raw: Any, settings: Settings) -> PresetScene | PointsScene:
    """A Scene from plain data (HTTP bodies, the store), checked against the limits."""
    return TypeAdapter(Scene).validate_python(raw, context={"settings": settings})


def validate_patch(raw: Any, settings: Settings) -> ConfigPatch:
    return ConfigPatch.model_validate(raw, context={"settings": settings})
