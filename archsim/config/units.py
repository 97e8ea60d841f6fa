"""Unit config schemas by kind, filled in by the unit packages themselves.

This layer knows no unit kind. Each package under `archsim/units/` registers its config model
(through `archsim.units.registry.register_unit`) when it is imported; `load_plugins` imports every
package there by name once, so a new kind is picked up without editing any central file. The design
schema's `units:` section is a tagged union over whatever is registered (rebuilt on change).
"""
from __future__ import annotations

import typing
from typing import Annotated, Any, Callable, Union

from pydantic import Field

from archsim.config.base import StrictModel
from archsim.errors import ConfigError
from archsim.plugins import import_submodules

PLUGIN_PACKAGE = "archsim.units"   # every package and module under it is imported by `load_plugins`

_MODELS: dict[str, type[StrictModel]] = {}
_listeners: list[Callable[[], None]] = []
_loaded = False


def kind_of(model: type[StrictModel]) -> str:
    """The `kind` a config model declares as `kind: Literal["..."]`."""
    field = model.model_fields.get("kind")
    args = typing.get_args(field.annotation) if field is not None else ()
    if len(args) != 1 or not isinstance(args[0], str):
        raise ConfigError(f"{model.__name__}: a unit config must declare `kind: Literal[\"<kind>\"]`")
    return args[0]


def register_unit_config(model: type[StrictModel]) -> str:
    """Add a unit config model; two models claiming one kind is an error naming both."""
    kind = kind_of(model)
    old = _MODELS.get(kind)
    if old is not None and old is not model:
        raise ConfigError(f"unit kind {kind!r} is registered twice: by {old.__module__}.{old.__qualname__} "
                          f"and by {model.__module__}.{model.__qualname__}; give one of them another kind")
    _MODELS[kind] = model
    _changed()
    return kind


def unregister_unit_config(kind: str) -> None:
    """Remove a kind (tests that define a unit kind of their own clean up with this)."""
    if _MODELS.pop(kind, None) is not None:
        _changed()


def on_change(listener: Callable[[], None]) -> None:
    """Call `listener` whenever the set of unit kinds changes (the design schema rebuilds itself)."""
    _listeners.append(listener)


def _changed() -> None:
    for fn in _listeners:
        fn()


def load_plugins() -> None:
    """Import every unit package once, so each registers itself."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import_submodules(PLUGIN_PACKAGE)


def unit_config_models() -> dict[str, type[StrictModel]]:
    """{kind: config model} of every registered unit kind."""
    load_plugins()
    return dict(_MODELS)


def unit_config_union() -> Any:
    """The tagged union the design's `units:` values are validated against."""
    models = tuple(_MODELS[k] for k in sorted(_MODELS))
    if not models:
        return dict[str, Any]
    return Annotated[Union[models], Field(discriminator="kind")]
