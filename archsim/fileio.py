"""Files appear whole or not at all: write to a temporary file beside the target, then rename.

The file gets the permissions any new file of the user would (0666 less the umask), not the
0600 of a temporary file, and an unwritable target is reported by its own name."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write `text` to `path` atomically (a crash leaves the old file or none, never half a file)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "is a directory; give a file name", str(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot create a file in {path.parent or '.'}: {exc.strerror}",
                        str(path)) from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
