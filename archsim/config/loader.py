"""Load YAML into validated config objects; every error names the file, the key path, the line and what was expected.

The YAML is composed (not just parsed) so each key keeps its line number. `--set a.b.c=value` overrides
are applied to the plain data before validation, so they are checked exactly like file values.
"""
from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path
from typing import Any, Iterable, Mapping, TypeVar, Union

import yaml
from pydantic import BaseModel, ValidationError

from archsim.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
Loc = tuple[Any, ...]


# ---------------------------------------------------------------------------------------------
# YAML with line numbers
# ---------------------------------------------------------------------------------------------
def _construct(node: yaml.Node, path: Loc, lines: dict[Loc, int], where: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for knode, vnode in node.value:
            key = _scalar(knode)
            if key in out:
                raise ConfigError(f"{where}:{knode.start_mark.line + 1}: key {_dotted(path + (key,))!r} "
                                  f"appears twice; each key may be given once")
            out[key] = _construct(vnode, path + (key,), lines, where)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, path + (i,), lines, where) for i, v in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def read_yaml(path: str | Path) -> tuple[Any, dict[Loc, int]]:
    """Parse a YAML file; returns (data, {key path: line})."""
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{p}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    lines: dict[Loc, int] = {}
    data = {} if node is None else _construct(node, (), lines, str(p))
    return data, lines


# ---------------------------------------------------------------------------------------------
# overrides
# ---------------------------------------------------------------------------------------------
def parse_overrides(items: Iterable[str] | None) -> dict[str, Any]:
    """`["a.b=1", "c=1 GHz"]` -> {"a.b": 1, "c": "1 GHz"}; values are read as YAML scalars."""
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE with a dotted key, e.g. units.sa.rows=64")
        try:
            out[key] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            out[key] = raw
    return out


def apply_overrides(data: dict, overrides: Mapping[str, Any] | None) -> dict:
    """Set each dotted key in a copy of `data`, creating intermediate mappings as needed."""
    import copy

    data = copy.deepcopy(data)
    for dotted, value in (overrides or {}).items():
        parts = dotted.split(".")
        cur: Any = data
        for i, part in enumerate(parts[:-1]):
            nxt = cur.get(part) if isinstance(cur, dict) else None
            if nxt is None:
                nxt = cur[part] = {}
            if not isinstance(nxt, dict):
                raise ConfigError(f"--set {dotted}: {'.'.join(parts[:i + 1])!r} is a value, not a section")
            cur = nxt
        cur[parts[-1]] = value
    return data


# ---------------------------------------------------------------------------------------------
# validation with located errors
# ---------------------------------------------------------------------------------------------
def _dotted(loc: Loc) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _data_path(data: Any, loc: Loc) -> Loc:
    """Drop pydantic's union-tag entries from `loc`, keeping only keys that exist in the data."""
    out: list[Any] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str) and part not in cur and part != loc[-1]:
            continue  # a discriminator tag such as 'systolic'
        elif isinstance(cur, (dict, list)) or (cur is None and not out) or cur is None:
            out.append(part)
            cur = None
        else:  # a scalar wrapped by a before-validator (e.g. '0.2 pJ' -> {value: ...}): report the key itself
            break
    return tuple(out)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin in (Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _models_in(a)]
    return []


def _pick(models: list[type[BaseModel]], data: Any) -> type[BaseModel] | None:
    kind = data.get("kind") if isinstance(data, dict) else None
    for m in models:
        f = m.model_fields.get("kind")
        if f is not None and kind in (typing.get_args(f.annotation) or (f.default,)):
            return m
    return models[0] if models else None


def _model_at(root: type[BaseModel], data: Any, path: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping at `path` (for "did you mean" hints)."""
    model: Any = root
    cur = data
    for part in path:
        if model is None:
            return None
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            ann = field.annotation
        else:  # a container annotation carried over from the previous step
            ann = model
            args = typing.get_args(ann)
            ann = args[-1] if args else None
        cur = cur.get(part) if isinstance(cur, dict) else None
        origin = typing.get_origin(ann)
        if origin in (dict, list, tuple, Mapping) or (origin is not None and origin not in (Union, types.UnionType)
                                                       and origin is not typing.Annotated):
            model = ann
            continue
        model = _pick(_models_in(ann), cur)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _line_for(lines: Mapping[Loc, int | str], path: Loc) -> int | str | None:
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def format_errors(exc: ValidationError, root: type[BaseModel], data: Any, where: str,
                  lines: Mapping[Loc, int] | None = None, prefix: Loc = ()) -> str:
    """One line per problem: `file:line: key.path: what is wrong (what was expected)`."""
    out: list[str] = []
    seen: set[tuple[Loc, str]] = set()
    for err in exc.errors(include_url=False):
        loc = _data_path(data, tuple(err["loc"]))
        if err["type"] == "union_tag_invalid":
            loc += ("kind",)   # point at the `kind:` line itself
        full = prefix + loc
        line = _line_for(lines or {}, full)
        head = f"{where}:{line}" if isinstance(line, int) else (f"{where} ({line})" if line else where)
        typ = err["type"]
        if typ == "extra_forbidden":
            parent = _model_at(root, data, loc[:-1])
            known = sorted(parent.model_fields) if parent else []
            close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
            msg = f"unknown key {str(loc[-1])!r} ({hint})"
        elif typ == "missing":
            msg = "required key is missing"
        elif typ == "union_tag_invalid":
            ctx = err.get("ctx", {})
            tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
            close = difflib.get_close_matches(str(ctx.get("tag")), tags, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            msg = f"unknown kind {ctx.get('tag')!r}{hint}; expected one of: {', '.join(tags)}"
        elif typ == "literal_error":
            msg = err["msg"].replace("Input tag", "kind").replace("Input should be", "expected")
            msg += f", got {err.get('input')!r}"
        else:
            msg = err["msg"].removeprefix("Value error, ")
            if "input" in err and typ not in ("value_error",) and not isinstance(err["input"], (dict, list)):
                msg += f" (got {err['input']!r})"
        key = (full, msg)
        if key in seen:
            continue
        seen.add(key)
        out.append(f"{head}: {_dotted(full)}: {msg}")
    return "\n".join(out)


def validate(model: type[M], data: Any, where: str, lines: Mapping[Loc, int] | None = None,
             prefix: Loc = ()) -> M:
    """Validate plain data against `model`, raising ConfigError with located, readable messages."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, model, data, where, lines, prefix)) from None


def load_model(source: str | Path | Mapping[str, Any], model: type[M],
               overrides: Mapping[str, Any] | None = None) -> M:
    """Read a YAML path (or take a dict), apply dotted overrides, validate against `model`."""
    if isinstance(source, Mapping):
        data, lines, where = dict(source), {}, "<dict>"
    else:
        data, lines = read_yaml(source)
        where = str(source)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the top level must be a mapping of keys, got {type(data).__name__}")
    data = apply_overrides(data, overrides)
    for dotted in overrides or {}:
        lines[tuple(dotted.split("."))] = f"--set {dotted}"  # type: ignore[assignment]
    obj = validate(model, data, where, lines)
    if "_source" in getattr(obj, "__private_attributes__", {}):
        obj._source = where
    return obj


BUNDLED = Path(__file__).resolve().parents[2] / "configs"


def resolve_config(name: str | Path) -> Path:
    """A design file by path, else by its bundled name: `default`, `default.yaml`, `pim/hbm_pim`
    or `configs/tpu_like_hbm2.yaml` from any directory. An unknown name lists the bundled ones."""
    p = Path(name)
    if p.is_file():
        return p
    rel = Path(*p.parts[1:]) if p.parts and p.parts[0] == "configs" else p
    for cand in (BUNDLED / rel, BUNDLED / rel.with_name(rel.name + ".yaml")):
        if cand.is_file():
            return cand
    known = sorted(str(q.relative_to(BUNDLED).with_suffix("")) for q in BUNDLED.glob("**/*.yaml")
                   if "sweeps" not in q.parts and "workloads" not in q.parts) if BUNDLED.is_dir() else []
    raise ConfigError(f"{name}: no such file" + (f", nor a bundled design ({', '.join(known)})" if known else ""))


def load_config(source: str | Path | Mapping[str, Any], overrides: Mapping[str, Any] | None = None):
    """Load a design config (archsim/config/schema.py `DesignConfig`) from a dict, a path or a
    bundled design's name (`resolve_config`), as the command line does."""
    from archsim.config.schema import DesignConfig

    if not isinstance(source, Mapping):
        source = resolve_config(source)
    return load_model(source, DesignConfig, overrides)
