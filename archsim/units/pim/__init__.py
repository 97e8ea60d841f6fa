"""Processing-in-memory units: MAC lanes beside DRAM banks, driven by DRAM commands."""
