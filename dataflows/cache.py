"""On-disk cache of mapper results, keyed by everything the search result depends on.

One small JSON file per key under `<dir>/mapper/`. The directory is the user's archsim cache
(`$ARCHSIM_CACHE_DIR`, else `$XDG_CACHE_HOME/archsim` or `~/.cache/archsim`), not the working
directory. Writes go to a temporary file first and are
renamed into place, so parallel sweep workers never read half a file.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from archsim.settings import cache_root


def default_cache_dir() -> Path:
    return cache_root()


def cache_key(parts: Any) -> str:
    """A stable hash of JSON-able `parts` (sorted keys, so dict order does not matter)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class MapCache:
    """get/put of JSON documents by key; a corrupt or unreadable entry counts as a miss."""

    def __init__(self, root: str | Path | None = None):
        self.dir = Path(root) if root is not None else default_cache_dir()
        self.dir = self.dir / "mapper"
        self.hits = self.misses = 0

    def _path(self, key: str) -> Path:
        return self.dir / f"{key}.json"

    def get(self, key: str) -> dict | None:
        try:
            data = json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            self.misses += 1
            return None
        self.hits += 1
        return data

    def put(self, key: str, value: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(value, f, sort_keys=True)
        os.replace(tmp, self._path(key))
