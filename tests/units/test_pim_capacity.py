"""A whole model must fit the memory a PIM unit computes in: weights and KV cache together."""
from pathlib import Path

import pytest

import archsim
from archsim.errors import WorkloadError
from archsim.units.pim.unit import resident_bytes
from archsim.workload import resolve_workload

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "pim"
LLAMA = {"model": "llama2-7b", "phase": "decode", "batch": 1, "kv": 2048}


def test_llama2_7b_does_not_fit_pim_gpts_4_gib():
    d = archsim.load_config(str(CONFIGS / "pim_gpt.yaml"))
    with pytest.raises(WorkloadError, match=r"design 'pim-gpt': the workload keeps 12\.\d\d GiB of weight \+ "
                                            r"1\.00 GiB of kv cache in memory\.offchip, but its 8 channels of "
                                            r"GDDR6-AiM hold 4\.00 GiB.*raise memory\.offchip\.channels"):
        archsim.run(d, LLAMA, fidelity="fast")
    archsim.run(d, {**LLAMA, "model": "gpt2", "kv": 1024}, fidelity="fast")      # 124 M parameters fit


def test_resident_bytes_are_the_models_parameters_and_cache():
    """LLaMA-2-7B: 6.738 B parameters, of which the 32,000 x 4,096 embedding table is not an operand (the
    embedding op reads one row); KV cache = 2 (K, V) x 32 layers x 2,048 tokens x 4,096 x 2 B = 1 GiB."""
    d = archsim.load_config(str(CONFIGS / "hbm_pim.yaml"))
    got = resident_bytes(resolve_workload(LLAMA, d).ops)
    assert got["weight"] == pytest.approx((6.738e9 - 32000 * 4096) * 2, rel=0.005)
    assert got["kv_cache"] == 2 * 32 * 2048 * 4096 * 2


def test_it_fits_when_channels_are_added():
    raw = archsim.load_config(str(CONFIGS / "pim_gpt.yaml")).model_dump(mode="json")
    raw["memory"]["offchip"]["channels"] = 32                       # 16 GiB
    archsim.run(archsim.load_config(raw), LLAMA, fidelity="fast")
