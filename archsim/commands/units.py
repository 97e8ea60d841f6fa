"""`archsim units`: the registered compute-unit kinds, each with its config keys, units and defaults."""
from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic_core import PydanticUndefined


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("units", help="list the registered compute-unit kinds with their keys and defaults",
                       description="List every compute-unit kind archsim knows (each registers itself from its "
                                   "package under archsim/units/), with the side of memory it sits on, its config "
                                   "keys (type, default, meaning) and the energy actions it prices.")
    p.add_argument("kind", nargs="?", help="show only this kind")
    p.add_argument("--json", metavar="PATH|-", help="write the listing as JSON ('-' for stdout, no table)")
    return p


def describe() -> dict[str, dict[str, Any]]:
    """{kind: {side, doc, keys: {key: {type, default, description}}, energy_actions}} of every kind."""
    from archsim.units.registry import unit_classes

    out = {}
    for kind, cls in unit_classes().items():
        keys = {}
        for key, f in cls.config_model.model_fields.items():
            if key == "kind":
                continue
            default = None if f.default is PydanticUndefined else f.default
            plain = isinstance(default, (int, float, str, bool, type(None)))
            keys[key] = {"type": _type_name(f.annotation), "required": f.is_required(),
                         "default": default if plain else str(default),
                         "description": f.description or ""}
        out[kind] = {"side": cls.side, "doc": (cls.config_model.__doc__ or "").strip().split("\n")[0],
                     "keys": keys, "energy_actions": dict(cls.energy_actions)}
    return out


def _type_name(ann: Any) -> str:
    """'int', 'os|ws|is', 'Frequency or none': what a user may write, with the quantity's unit kind."""
    import types
    import typing

    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Literal:
        return "|".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        named = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(named) + (" or none" if type(None) in args else "")
    if origin is typing.Annotated:
        parsers = [getattr(getattr(m, "func", None), "__name__", "") for m in args[1:]]
        named = [p.removeprefix("parse_").removesuffix("_ps").removesuffix("_pj") for p in parsers if p]
        unit = {"frequency": "frequency (e.g. 1 GHz)", "size": "size (e.g. 64 KiB)", "bandwidth":
                "bandwidth (e.g. 25.6 GB/s)", "duration": "duration (e.g. 100 ns)", "energy": "energy (e.g. 0.2 pJ)"}
        return unit.get(named[0], named[0]) if named else _type_name(args[0])
    return getattr(ann, "__name__", None) or str(ann).replace("typing.", "")


def main(args) -> int:
    from archsim.commands._common import write_json
    from archsim.errors import ArchsimError

    kinds = describe()
    if args.kind:
        if args.kind not in kinds:
            raise ArchsimError(f"no unit kind {args.kind!r}; registered kinds: {', '.join(kinds)}")
        kinds = {args.kind: kinds[args.kind]}
    if args.json:
        write_json(json.loads(json.dumps(kinds, default=str)), args.json)
        if args.json == "-":
            return 0
    from archsim.textfmt import wrap

    pad = " " * 25
    for kind, d in kinds.items():
        print(wrap(f"{kind}  ({d['side']}-side)  {d['doc']}", 80, "  "))
        for key, k in d["keys"].items():
            dflt = "required" if k["required"] else f"default {k['default']!r}"
            print(wrap(f"  {key:22s} {k['type']}; {dflt}", 80, pad))
            if k["description"]:
                print(wrap(f"{pad}{k['description']}", 80, pad))
        for action, what in d["energy_actions"].items():
            print(wrap(f"  energy.{action}: {what}", 80, "    "))
        print()
    return 0
