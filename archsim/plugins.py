"""Self-registration by import: the unit kinds and the RTL core benches are found by importing
every module of their package, so adding one never edits a central list."""
from __future__ import annotations

import importlib
import pkgutil


def import_submodules(package: str) -> None:
    """Import every module and package directly under `package` (names starting "_" excepted),
    in name order, so each registers whatever it declares."""
    pkg = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")
