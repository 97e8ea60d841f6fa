"""A unit kind defined entirely in this file registers, validates its config, is listed, placed and runs.

Nothing outside this file names the kind; the fixture unregisters it, so removing the file leaves no trace.
"""
from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import Field

import archsim
from archsim.config.base import StrictModel
from archsim.config.quantities import Frequency
from archsim.errors import ArchsimError, ConfigError
from archsim.units.base import ComputeUnit, OpResult
from archsim.units.registry import register_unit, unit_classes, unregister_unit
from dataflows.schedule import Tile


class ToyAttentionConfig(StrictModel):
    kind: Literal["toy_attention"] = "toy_attention"
    macs_per_cycle: int = Field(ge=1, description="MACs per cycle")
    clock: Frequency | None = None


class ToyAttention(ComputeUnit):
    """Runs a fused attention op whole: its MACs at a fixed rate, Q/K/V in and the output out through
    the shared tile pipeline (one tile)."""

    kind = "toy_attention"
    config_model = ToyAttentionConfig
    energy_actions = {"mac": "one MAC"}

    @property
    def peak_macs_per_cycle(self) -> int:
        return self.cfg.macs_per_cycle

    def supports(self, op) -> bool:
        return op.kind == "attention"

    def owns(self, op) -> bool:
        return op.kind == "attention"

    def run_op(self, op, ctx) -> OpResult:
        cycles = -(-op.macs // self.cfg.macs_per_cycle)
        reads = sum(o.nbytes(op.dims) for o in op.operands if o.role != "output")
        writes = op.write_bytes
        pipe = ctx.pipeline([Tile(ctx.clock_ps(cycles), ((0, reads),), ((1 << 20, writes),))])
        return OpResult(pipe.total_ps, pipe.compute_ps, op.macs, {"offchip": (reads, writes)},
                        energy_pj={"mac": op.macs * self.action_energy_pj("mac")}, mapping="toy",
                        detail={"cycles": cycles})


@pytest.fixture
def toy_kind():
    register_unit(ToyAttention)
    yield ToyAttention
    unregister_unit("toy_attention")


DESIGN = {"name": "toy", "units": {"att": {"kind": "toy_attention", "macs_per_cycle": 1024},
                                    "vec": {"kind": "vector", "lanes": 64}},
          "energy": {"mac": "0.5 pJ"}}


def test_kind_registers_validates_runs_and_leaves_no_trace(toy_kind):
    design = archsim.load_config(DESIGN)
    rep = archsim.run(design, {"attention": ["B=1,H=4,P=64,M=64,E=32"]}, fidelity="fast")
    (row,) = rep.ops
    assert row["unit"] == "att" and row["kind"] == "attention" and row["mapping"] == "toy"
    assert row["macs"] == 2 * 4 * 64 * 64 * 32
    assert row["detail"]["cycles"] == -(-row["macs"] // 1024)
    assert row["levels"]["offchip"]["read_bytes"] == row["dram_read_bytes"] > 0
    assert row["energy_breakdown_pj"]["mac"] == pytest.approx(0.5 * row["macs"])
    cyc = archsim.run(design, {"attention": ["B=1,H=4,P=64,M=64,E=32"]}, fidelity="cycle")
    assert cyc.ops[0]["cycles"] >= row["detail"]["cycles"]
    with pytest.raises(ConfigError, match="macs_per_cycle"):
        archsim.load_config({**DESIGN, "units": {"att": {"kind": "toy_attention", "macs_per_cycle": 0}}})
    unregister_unit("toy_attention")
    assert "toy_attention" not in unit_classes()
    with pytest.raises(ConfigError, match="unknown kind 'toy_attention'"):
        archsim.load_config(DESIGN)


def test_archsim_units_lists_a_registered_kind(toy_kind, capsys):
    from archsim.cli import main

    assert main(["units", "--json", "-"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["toy_attention"]["keys"]["macs_per_cycle"]["required"] is True
    assert listing["systolic"]["keys"]["rows"]["type"] == "int"
    assert main(["units", "toy_attention"]) == 0
    assert "macs_per_cycle" in capsys.readouterr().out


def test_two_classes_for_one_kind_is_an_error(toy_kind):
    class Other(ToyAttention):
        pass

    with pytest.raises(ConfigError, match="registered twice"):
        register_unit(Other)


def test_unknown_kind_says_did_you_mean():
    with pytest.raises(ConfigError, match="did you mean 'systolic'"):
        archsim.load_config({"units": {"sa": {"kind": "systolik", "rows": 4, "cols": 4}}})


def test_fused_attention_without_a_capable_unit_runs_its_parts():
    design = archsim.load_config("configs/default.yaml")
    rep = archsim.run(design, {"attention": ["B=1,H=4,P=32,M=32,E=16"]})
    assert [r["name"] for r in rep.ops] == ["qk", "softmax", "av"]
    assert all(r["cycles"] > 0 for r in rep.ops)


def test_a_supported_non_gemm_op_without_a_cost_is_an_error():
    from dataflows.ir import Op, Operand

    class Mute(ComputeUnit):
        kind = "mute"

        def supports(self, op) -> bool:
            return True

    op = Op("sm", "softmax", "mn->mn", {"m": 4, "n": 4},
            (Operand("x", "activation", ("m", "n")), Operand("y", "output", ("m", "n"))))
    with pytest.raises(ArchsimError, match="states no cost"):
        Mute("m", None, 1e9).stream_compute(op)


def test_model_lowering_fused_matches_unfused_parts():
    from dataflows.lowering import lower

    fused = list(lower("llama2-7b", "decode", batch=2, kv=256, attention="fused"))
    plain = list(lower("llama2-7b", "decode", batch=2, kv=256))
    att = next(o for o in fused if o.kind == "attention")
    assert att.shape == {"B": 2, "H": 32, "kv_heads": 32, "P": 1, "M": 256, "E": 128, "F": 128, "causal": False}
    by_name = {o.name: o for o in plain}
    for part in att.parts:
        ref = by_name[part.name]
        assert (part.as_gemm() if part.is_gemm else part.flops) == (ref.as_gemm() if ref.is_gemm else ref.flops)
        assert part.bytes == ref.bytes and part.count == ref.count
    assert sum(o.flops * o.count for o in fused) == sum(o.flops * o.count for o in plain)
