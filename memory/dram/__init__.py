"""DRAM: standards as data (memory/specs), address mapping, event-driven controller, fast model."""
