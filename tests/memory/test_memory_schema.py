"""The `memory:` schema: kinds, units, defaults, and clear rejection of bad values."""
import pytest
from pydantic import ValidationError

from archsim.config.memory_schema import DramConfig, FlashConfig, MemoryConfig, SimpleOffchipConfig
from archsim.engine import Engine
from memory import build_offchip, build_sram


def test_defaults_and_kinds():
    m = MemoryConfig()
    assert isinstance(m.offchip, SimpleOffchipConfig) and m.offchip.bandwidth == 25.6e9 and m.offchip.latency == 100_000
    d = MemoryConfig.model_validate({"offchip": {"kind": "dram", "standard": "HBM3", "channels": 4,
                                                 "timing": {"tRFC": 400}}}).offchip
    assert isinstance(d, DramConfig) and d.scheduler == "frfcfs" and d.page_policy == "open"
    f = MemoryConfig.model_validate({"offchip": {"kind": "flash", "preset": "cambricon_llm", "channels": 32,
                                                 "t_read": "30 us", "channel_bandwidth": "1 GB/s"}}).offchip
    assert isinstance(f, FlashConfig) and f.t_read == 30_000_000 and f.channel_bandwidth == 1e9
    lvl = build_offchip(d, Engine())
    assert lvl.spec.timing["tRFC"] == 400 and lvl.channels == 4


@pytest.mark.parametrize("offchip", [
    {"kind": "dram", "standard": "DDR4-3200", "page_policy": "sometimes"},
    {"kind": "dram", "standard": "DDR4-3200", "write_low_watermark": 0.9, "write_high_watermark": 0.5},
    {"kind": "dram", "standard": "DDR4-3200", "queue": 4},                 # unknown key
    {"kind": "simple", "bandwidth": "25.6", "latency": "100 ns"},          # bandwidth without unit
    {"kind": "tape", "bandwidth": "1 GB/s"},
])
def test_bad_offchip_rejected(offchip):
    with pytest.raises(ValidationError):
        MemoryConfig.model_validate({"offchip": offchip})


def test_links_need_preset_or_numbers_and_sram_builds():
    with pytest.raises(ValidationError, match="preset"):
        MemoryConfig.model_validate({"links": {"host": {"bandwidth": "8 GB/s"}}})
    m = MemoryConfig.model_validate({"sram": {"ifmap": {"capacity": "512 KiB", "bytes_per_cycle": 128, "banks": 8,
                                                        "double_buffered": True}}})
    s = build_sram("ifmap", m.sram["ifmap"], Engine(), 1e9)
    assert s.tile_capacity_bytes == 256 * 1024 and s.word_bytes == 16


def test_build_memory_builds_every_level_of_a_design():
    from memory import build_memory
    m = MemoryConfig.model_validate({
        "sram": {"ifmap": {"capacity": "64 KiB", "bytes_per_cycle": 32, "banks": 4}},
        "links": {"host": {"preset": "pcie4_x16"}},
        "offchip": {"kind": "dram", "standard": "DDR4-3200"}})
    levels = build_memory(m, Engine(), 1e9)
    assert set(levels) == {"ifmap", "host", "offchip"}
    assert levels["offchip"].spec.name == "DDR4-3200"
