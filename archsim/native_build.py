"""Compiled twins: C sources built on first use into the cache and loaded with ctypes.

Why: a few hot loops (the DRAM controller, the systolic register model) cost microseconds per step
in the interpreter. Each keeps its Python model as the reference; its C twin is compiled here with
`$CC`, else `cc`/`gcc` on PATH, into `<cache>/native/`, named by a hash of source, compiler and
flags, and renamed into place so parallel processes never load a half-written file.
`ARCHSIM_NATIVE=0` or no compiler on PATH turns the twins off; a compiler named by `$CC` that is
missing, or a failing compile, is an error, never a silent fallback.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from archsim.errors import ArchsimError
from archsim.settings import settings

FLAGS = ("-O2", "-shared", "-fPIC", "-std=c99")
_loaded: dict[str, ctypes.CDLL] = {}


def cache_dir() -> Path:
    from archsim.settings import cache_root

    return cache_root() / "native"


def compiler(label: str = "compiled core", fallback: str = "the Python model") -> list[str] | None:
    """argv of the C compiler: `$CC` (must exist), else `cc` or `gcc` on PATH, else None."""
    cc = os.environ.get("CC", "").strip()
    if cc:
        argv = shlex.split(cc)
        if shutil.which(argv[0]) is None:
            raise ArchsimError(f"{label}: the C compiler $CC={cc!r} was not found; fix or unset "
                               f"CC, or set ARCHSIM_NATIVE=0 to use {fallback}")
        return argv
    for name in ("cc", "gcc"):
        path = shutil.which(name)
        if path:
            return [path]
    return None


def load(label: str, source_dir: Path, sources: tuple[str, ...], stem: str, fallback: str,
         flags: tuple[str, ...] = FLAGS) -> ctypes.CDLL | None:
    """The shared object built from `sources` (compiled into the cache on first use), or None when
    the twins are off or no compiler exists. Every .c/.h file of `source_dir` feeds the hash."""
    if not settings().native:
        return None
    argv = compiler(label, fallback)
    if argv is None:
        return None
    src = b"".join(p.read_bytes() for p in sorted(source_dir.iterdir()) if p.suffix in (".c", ".h"))
    key = hashlib.sha256(src + "\0".join(argv + list(flags)).encode()).hexdigest()[:20]
    out = cache_dir() / f"{stem}-{key}.so"
    if str(out) in _loaded:
        return _loaded[str(out)]
    if not out.is_file():
        _compile(label, fallback, argv, flags, out, [source_dir / n for n in sources])
    lib = ctypes.CDLL(str(out))
    _loaded[str(out)] = lib
    return lib


def _compile(label: str, fallback: str, argv: list[str], flags: tuple[str, ...], out: Path,
             sources: list[Path]) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=out.stem + ".", suffix=".tmp.so", dir=out.parent)
        os.close(fd)
    except OSError as exc:
        raise ArchsimError(f"{label}: cannot write to {out.parent} ({exc}); set "
                           "ARCHSIM_CACHE_DIR to a writable directory or ARCHSIM_NATIVE=0") from None
    try:
        res = subprocess.run([*argv, *flags, "-o", tmp, *map(str, sources)], capture_output=True, text=True)
        if res.returncode != 0:
            raise ArchsimError(f"{label}: compiling {', '.join(p.name for p in sources)} with {' '.join(argv)} "
                               f"failed (exit {res.returncode}):\n{res.stderr.strip()[:2000]}\nSet "
                               f"ARCHSIM_NATIVE=0 to use {fallback}.")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
