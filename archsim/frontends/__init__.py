"""Readers for other simulators' input formats (SCALE-Sim .cfg and topology CSV)."""
