"""Flash energy of bytes that reach a flash level through the runner's port: each request pays the
level's own senses (with read-retries), channel bits and programs, under `offchip.<level>.<part>`, in
both fidelities, and those bytes are kept out of the design's flat `offchip_byte`."""
from __future__ import annotations

import json

import pytest

import archsim
from archsim.engine import Engine
from memory.flash.level import FlashLevel, load_flash_spec

FLASH = "configs/platform/flash_weights_hbm_kv.yaml"
PAGE_BITS = 16384 * 8
# 2 pJ per bit sensed, one retry (two senses a page), 1 pJ per channel bit; no prefetch, no chunking
PLAIN = {"memory.prefetch.resident_weight_bytes": "0 B", "memory.levels.ssd.forward_chunk": None,
         "memory.levels.ssd.device.array_read_energy": "2 pJ", "memory.levels.ssd.device.channel_energy": "1 pJ",
         "memory.levels.ssd.device.read_retries": 1}


def _flash_parts(row: dict) -> dict[str, float]:
    return {k: v for k, v in row["energy_breakdown_pj"].items() if k.startswith("offchip.ssd.")}


def test_request_price_follows_the_page_rule():
    spec = load_flash_spec("tlc_ssd", {"array_read_energy": 2.0, "channel_energy": 1.0, "read_retries": 1,
                                       "program_energy": 10.0, "erase_energy": 1024.0})
    f = FlashLevel("f", Engine(), spec)
    # 40 KiB from 8 KiB in: pages 0, 1, 2 sensed twice each; no slicing, so three whole pages cross the channel
    assert f.request_energy_pj(8192, 40960, False) == {"f.array_read": 3 * 2 * PAGE_BITS * 2.0,
                                                       "f.channel": 3 * PAGE_BITS * 1.0}
    # a one-page write programs its page and owes 1/1024 of its block's 1024 pJ erase
    assert f.request_energy_pj(0, 16384, True) == {"f.program": PAGE_BITS * 10.0, "f.erase": 1.0,
                                                   "f.channel": PAGE_BITS * 1.0}
    sliced = FlashLevel("s", Engine(), load_flash_spec("instinfer_csd"))   # 4 KiB read slices
    assert sliced.request_energy_pj(0, 4096, False)["s.channel"] == 4096 * 8 * 3.6
    assert sliced.request_energy_pj(0, 4096, False)["s.array_read"] == PAGE_BITS * 18.28


@pytest.mark.parametrize("fidelity", ["fast", "cycle", "estimate"])
def test_hand_computed_gemv_weights_from_flash(fidelity, monkeypatch):
    """1 x 8192 x 128 INT8 weights on the drive: 1 MiB = 64 pages, each sensed twice at 2 pJ/bit (also
    when `fast` takes the mapper's closed form instead of walking the tiles)."""
    if fidelity == "estimate":
        monkeypatch.setattr(archsim.runner, "EXACT_STEP_LIMIT", 0)
        fidelity = "fast"
    design = archsim.load_config(FLASH, overrides=PLAIN)
    row = archsim.run(design, {"gemm": ["1x128x8192"]}, fidelity=fidelity).ops[0]
    assert row["levels"]["ssd"] == {"read_bytes": 1 << 20, "write_bytes": 0}
    assert _flash_parts(row) == {"offchip.ssd.flash.array_read": 64 * 2 * PAGE_BITS * 2.0,
                                 "offchip.ssd.flash.channel": (1 << 20) * 8 * 1.0}
    hbm = row["levels"]["offchip"]
    per_byte = archsim.runner.design_energy_spec(design).offchip_byte_pj
    # the flat figure prices only the HBM bytes; the row's parts add up to its energy
    assert row["energy_breakdown_pj"]["offchip"] == pytest.approx((hbm["read_bytes"] + hbm["write_bytes"]) * per_byte)
    assert row["energy_pj"] == pytest.approx(sum(row["energy_breakdown_pj"].values()))


def test_links_price_their_own_bytes():
    over = {**PLAIN, "memory.levels.ssd.links.pcie.energy_per_byte": "5 pJ"}
    row = archsim.run(archsim.load_config(FLASH, overrides=over), {"gemm": ["1x128x8192"]}).ops[0]
    assert row["energy_breakdown_pj"]["offchip.ssd.pcie.transfer"] == (1 << 20) * 5.0


def _one_layer(tmp_path) -> str:
    cfg = {"model_type": "gpt2", "n_layer": 1, "n_embd": 256, "n_head": 4, "n_positions": 1024, "vocab_size": 256}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    return str(tmp_path / "config.json")


@pytest.mark.parametrize("prefetch", [False, True])
def test_decode_step_conserves_flash_energy(tmp_path, monkeypatch, prefetch):
    """A decode step with resident norm gains (and cross-op weight prefetch) and 16 KiB forwarding
    (the shipped design, retries on): the flash parts of the rows add up to the pages the drive was
    asked to sense, counted here from the requests it served; `fast` charges each op what `cycle` does."""
    design = archsim.load_config(FLASH, overrides={"memory.levels.ssd.device.read_retries": 2,
                                                   "memory.prefetch.weights": prefetch})
    wl = {"model": _one_layer(tmp_path), "phase": "decode", "batch": 2, "kv": 128}
    seen: list[tuple[int, int, bool]] = []
    submit = FlashLevel.submit

    def record(self, req):
        seen.append((req.addr, req.nbytes, req.is_write))
        submit(self, req)

    monkeypatch.setattr(FlashLevel, "submit", record)
    cycle = archsim.run(design, wl, fidelity="cycle", dedup=False)
    monkeypatch.setattr(FlashLevel, "submit", submit)
    fast = archsim.run(design, wl, fidelity="fast", dedup=False)
    assert any("weight_bytes" in r.get("prefetch", {}) for r in cycle.ops) == prefetch
    page = 16384
    pages = sum((a + n - 1) // page - a // page + 1 for a, n, w in seen if not w)
    assert pages > 0 and not any(w for _, _, w in seen)
    sensed = sum(v for r in cycle.ops for k, v in _flash_parts(r).items() if k.endswith(".array_read"))
    assert sensed == pytest.approx(pages * 3 * page * 8 * 18.28, rel=1e-12)
    for f, c in zip(fast.ops, cycle.ops):
        assert _flash_parts(f) == pytest.approx(_flash_parts(c), rel=1e-12), f["name"]
    ssd = sum(r.get("levels", {}).get("ssd", {}).get("read_bytes", 0) for r in cycle.ops)
    hbm = sum(sum(r.get("levels", {}).get("offchip", {}).values()) for r in cycle.ops)
    flat = sum(r["energy_breakdown_pj"].get("offchip", 0.0) for r in cycle.ops)
    per_byte = archsim.runner.design_energy_spec(design).offchip_byte_pj
    assert ssd > 0 and flat == pytest.approx(hbm * per_byte)          # flash bytes never pay offchip_byte
    for rep in (fast, cycle):
        assert rep.totals["energy_pj"] == pytest.approx(sum(rep.totals["energy_breakdown_pj"].values()))


def test_whole_ops_on_flash_do_not_also_pay_offchip_byte():
    """Cambricon's in-flash GEMVs price their senses and channel bytes themselves: none of those bytes
    is charged the LPDDR figure again."""
    design = archsim.load_config("configs/flash/cambricon_llm_s.yaml")
    rep = archsim.run(design, {"model": "opt-1.3b", "phase": "decode", "batch": 1, "kv": 64})
    gemv = [r for r in rep.ops if r["unit"] == "flash"]
    assert gemv and all(r["energy_breakdown_pj"]["flash_array"] > 0 for r in gemv)
    assert all(r["energy_breakdown_pj"].get("offchip", 0.0) == 0.0 for r in gemv)


def test_drive_presets_carry_the_documented_energies():
    """Every drive preset prices senses and channel bits with the figures validation/flash/flash_energy.csv
    names (AiF's conventional TLC read, its cr-read on the aif preset, none for Lincoln's SLC; the C V^2 / 2
    channel estimate)."""
    import csv
    from pathlib import Path

    from memory.flash.level import flash_presets

    path = Path(__file__).resolve().parents[2] / "validation" / "flash" / "flash_energy.csv"
    with open(path) as fh:
        ref = {r["quantity"]: float(r["value_pj"]) for r in csv.DictReader(x for x in fh if not x.startswith("#"))}
    read = {"aif": ref["array_read_per_bit_cr_read"], "lincoln": ref["array_read_per_bit_slc"]}
    for name in flash_presets():
        spec = load_flash_spec(name)
        got = (spec.array_read_energy, spec.channel_energy)
        assert got == (read.get(name, ref["array_read_per_bit"]), ref["channel_per_bit"]), name
