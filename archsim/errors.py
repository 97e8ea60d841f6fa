"""User-facing errors: one paragraph that names the file, key and what was expected; no traceback."""
from __future__ import annotations


class ArchsimError(Exception):
    """An error caused by the user's input. The CLI prints it without a traceback and exits 2."""

    exit_code = 2


class ConfigError(ArchsimError):
    """A configuration value is missing, unknown, malformed or inconsistent."""


class WorkloadError(ArchsimError):
    """A workload (operator, model, trace) cannot be simulated as given."""
