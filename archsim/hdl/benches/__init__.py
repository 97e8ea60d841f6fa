"""cocotb benches, one module per core family; each registers its cores (archsim.hdl.registry)."""
