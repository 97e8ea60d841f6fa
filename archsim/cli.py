"""`archsim` command line: a thin dispatcher over `archsim/commands/<name>.py`.

Each command module defines `register(sub) -> argparse.ArgumentParser` and `main(args) -> int`.
Modules are imported lazily so `archsim run` does not pay for Dask, matplotlib or cocotb.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from archsim.errors import ArchsimError

# command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("archsim.commands.run", "simulate a workload on a design and print per-op results"),
    "units": ("archsim.commands.units", "list the registered compute-unit kinds with their keys and defaults"),
    "config": ("archsim.commands.config", "inspect configurations (show the resolved config)"),
    "scalesim": ("archsim.commands.scalesim", "run SCALE-Sim's own .cfg and topology files"),
    "mem": ("archsim.commands.mem", "drive the memory models (DRAM, flash) with a trace or pattern"),
    "validate": ("archsim.commands.validate", "co-simulate the Verilog reference cores against the models"),
    "model": ("archsim.commands.model", "lower a transformer and print its operator table"),
    "map": ("archsim.commands.map", "search mappings of one operator onto a design"),
    "sweep": ("archsim.commands.sweep", "run a design-space sweep into a resumable results store"),
    "results": ("archsim.commands.results", "query and export a sweep's results store"),
    "report": ("archsim.commands.report", "make figures and an HTML report from results"),
    "diff": ("archsim.commands.diff", "compare two run reports (JSON) side by side with ratios"),
    "bits": ("archsim.commands.bits", "digit statistics of operand values under each encoding"),
}


def _available(only: str | None = None) -> dict[str, object]:
    mods = {}
    for name, (modname, _help) in COMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            mods[name] = importlib.import_module(modname)
        except ModuleNotFoundError as exc:  # a command whose module is not built yet
            if exc.name != modname:
                raise
    return mods


class _Parser(argparse.ArgumentParser):
    """A bad argument is one line naming it (and where the help is), not the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(mods: dict[str, object] | None = None) -> argparse.ArgumentParser:
    mods = _available() if mods is None else mods
    parser = _Parser(prog="archsim", description="Cycle-level accelerator simulator.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in mods.values():
        p = mod.register(sub)
        p.set_defaults(_main=mod.main)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # import only the chosen command's module (pydantic, numpy, dask, cocotb load on demand)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(_available(chosen) if chosen in COMMANDS else None)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:           # --help, or a bad argument (already reported in one line)
        return int(exc.code or 0)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._main(args) or 0)
    except ArchsimError as exc:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"archsim {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:          # `archsim ... | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:           # an output path that cannot be written (or an input that vanished)
        if exc.filename is None or getattr(args, "debug", False):
            raise
        print(f"archsim {args.command}: error: cannot use {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
