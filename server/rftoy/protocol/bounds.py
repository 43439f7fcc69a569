"""The range of every number a person sets (points, seed, width, ...), and a refusal of one in plain words.

One source for page and server: `setting_bounds` joins Config's own field bounds with the server's limits; the
`ready` message carries them (docs/protocol.md, "Setting bounds") and the page checks a value against them, in
the same words (web/state.js `boundWords`), before it sends anything.
"""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from rftoy.settings import Settings

# The name a person knows each setting by (the page's label).
LABELS = {"n": "points", "seed": "seed", "width": "width", "depth": "depth", "lr": "learning rate",
          "batch": "batch", "warp_s": "time warp", "steps": "solver steps"}
# pydantic error types that mean "outside the range" or "not a number of the right kind".
BOUND_ERRORS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal", "int_type",
                          "int_parsing", "int_from_float", "float_type", "float_parsing", "finite_number"})
ERROR_TYPE = "setting_bounds"


def _number(value: float) -> str:
    """1, 0.5, 2147483647: as JavaScript's String() writes them, so page and server say the same."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def field_bounds(name: str, field: FieldInfo, most: int | None = None) -> dict[str, Any]:
    """A field's label, whether it is whole, and its ge/gt/le (an integer's lt becomes le), `most` capping le."""
    whole = field.annotation is int
    bound: dict[str, Any] = {"label": LABELS[name], "integer": whole}
    for item in field.metadata:
        for key in ("ge", "gt", "le", "lt"):
            value = getattr(item, key, None)
            if value is not None:
                bound[key] = value
    if whole and "lt" in bound:
        bound["le"] = bound.pop("lt") - 1
    if most is not None:
        bound["le"] = min(bound.get("le", most), most)
    return bound


def points_bound(settings: Settings) -> dict[str, Any]:
    """The bounds of a preset scene's point count."""
    return {"label": LABELS["n"], "integer": True, "ge": settings.min_points, "le": settings.max_points}


def setting_bounds(settings: Settings, config_fields: dict[str, FieldInfo]) -> dict[str, dict[str, Any]]:
    """Bounds of the preset scene's point count and of each numeric Config field, with this server's limits."""
    most = {"width": settings.max_width, "depth": settings.max_depth, "steps": settings.max_solver_steps,
            "batch": settings.max_points}
    bounds = {"n": points_bound(settings)}
    for name, field in config_fields.items():
        if name in LABELS:
            bounds[name] = field_bounds(name, field, most.get(name))
    return bounds


def words(bound: dict[str, Any], whole: bool = False) -> str:
    """'points must be between 2 and 4096', 'learning rate must be above 0 and at most 1'; `whole` adds that it
    must be a whole number."""
    low = ("at least", bound["ge"]) if "ge" in bound else ("above", bound["gt"]) if "gt" in bound else None
    high = ("at most", bound["le"]) if "le" in bound else ("below", bound["lt"]) if "lt" in bound else None
    kind = "a whole number " if whole else ""
    if low and high and low[0] == "at least" and high[0] == "at most":
        return f"{bound['label']} must be {kind}between {_number(low[1])} and {_number(high[1])}"
    parts = [f"{side} {_number(value)}" for side, value in (low, high) if side]
    return f"{bound['label']} must be {kind}{' and '.join(parts)}".rstrip()


def in_bounds(bound: dict[str, Any], value: float) -> bool:
    return (("ge" not in bound or value >= bound["ge"]) and ("gt" not in bound or value > bound["gt"])
            and ("le" not in bound or value <= bound["le"]) and ("lt" not in bound or value < bound["lt"]))


def refuse(bound: dict[str, Any]) -> PydanticCustomError:
    """A validation error whose message is the plain refusal alone (`plain_error` passes it through as is)."""
    return PydanticCustomError(ERROR_TYPE, words(bound))


def plain_error(error: dict[str, Any], bounds: dict[str, dict[str, Any]]) -> str | None:
    """A pydantic error on a setting in plain words, or None when it is not about a setting's range or type."""
    if error["type"] == ERROR_TYPE:
        return str(error["msg"])
    loc = error["loc"]
    name = loc[-1] if loc else None
    about_setting = "config" in loc or "preset" in loc
    if error["type"] not in BOUND_ERRORS or name not in bounds or not about_setting:
        return None
    bound = bounds[name]
    whole = bound["integer"] and error["type"].startswith("int_")
    return words(bound, whole)
