"""Standards as data: every spec loads, passes its checks, and bad specs are rejected by name."""
import pytest
import yaml

from archsim.errors import ArchsimError
from memory.dram.mapping import AddressMapping
from memory.dram.spec import SPEC_DIR, available_standards, build_spec, evaluate, load_spec

STANDARDS = ["DDR4-3200", "DDR5-4800", "LPDDR5-6400", "HBM2", "HBM3", "GDDR6"]


def test_all_required_standards_present_with_sources():
    assert set(STANDARDS) <= set(available_standards())
    for name in STANDARDS:
        s = load_spec(name)
        assert s.source and s.energy_source, name
        assert s.timing["tRC"] >= s.timing["tRAS"] + s.timing["tRP"]
        assert all(v >= 0 for v in s.energy_pj.values())


def test_ddr4_organisation_matches_reference():
    s = load_spec("ddr4-3200")             # case-insensitive
    assert s.tck_ps == 625 and s.burst_bytes == 64 and s.bursts_per_row == 128
    assert s.peak_bytes_per_s == 25.6e9 and s.channel_bytes == 16 * 2**30
    assert load_spec("HBM2").peak_bytes_per_s == 16e9     # per pseudo-channel


@pytest.mark.parametrize("key,value,rule", [("tRC", 63, "tRC >= tRAS + tRP"), ("tCCD_L", 2, "tCCD_L >= tCCD_S"),
                                            ("tRFC", 99999, "tREFI > tRFC")])
def test_inconsistent_timing_rejected_naming_rule(key, value, rule):
    with pytest.raises(ArchsimError, match=rule.replace("+", r"\+")):
        load_spec("DDR4-3200", {key: value})


def test_attacc_hbm3_trc_is_rejected():
    raw = yaml.safe_load((SPEC_DIR / "HBM3.yaml").read_text())
    raw["timing"]["tRC"] = 63
    with pytest.raises(ArchsimError, match="tRC >= tRAS"):
        build_spec(raw)


def test_unknown_standard_and_bad_override():
    with pytest.raises(ArchsimError, match="unknown DRAM standard"):
        load_spec("DDR9")
    with pytest.raises(ArchsimError, match="unknown timing"):
        load_spec("DDR4-3200", {"tFOO": 3})


def test_evaluate_rejects_code():
    assert evaluate("max(CL, 3) + 2", {"CL": 5}) == 7
    with pytest.raises(ArchsimError):
        evaluate("__import__('os')", {})


def test_mapping_roundtrip_and_dramsim3_syntax():
    s = load_spec("DDR4-3200")
    m = AddressMapping.for_spec("rochrababgco", s, 1, 2)
    assert m.capacity_bytes == 16 * 2**30
    assert m.decode(64 * 127) == (0, 0, 0, 0, 0, 127) and m.decode(64 * 128) == (0, 0, 1, 0, 0, 0)
    h = AddressMapping.for_spec("rochrababgco", s, 1, 2, xor_bank_hash=True)
    for f in [(0, 1, 2, 3, 77, 5), (0, 0, 3, 1, 65535, 127)]:
        assert h.decode(h.encode(*f)) == f
    assert h.decode(m.encode(ro=1))[2] == 1 and m.decode(m.encode(ro=1))[2] == 0   # rows spread over bank groups
    with pytest.raises(ArchsimError, match="exactly once"):
        AddressMapping.for_spec("rochrababg", s, 1, 2)
