"""The SSD-simulator micro-tests (MQSim / SimpleSSD / SSDsim regressions) on our flash level, plus the
options a KV cache or an aged device needs: command overheads, read retries, ECC tiers, erase, energy."""
import pytest

from archsim.engine import Engine
from archsim.errors import ConfigError
from memory.flash.level import FlashLevel, load_flash_spec
from memory.request import Request

US = 1_000_000


def _run(spec, reqs):
    """Submit (addr, nbytes, is_write) at t = 0 in order; return (level, completion times)."""
    e = Engine()
    f = FlashLevel("f", e, spec)
    done = []
    for a, n, w in reqs:
        f.submit(Request(a, n, w, "t", done.append))
    e.run()
    return f, [r.done_ps for r in done]


def _seq(spec, pages):
    return _run(spec, [(i * spec.page_size, spec.page_size, False) for i in range(pages)])


def test_single_page_read_latency_with_command_overhead():
    """cmd/addr (7 bus cycles) + tWB + tR + tRR + page/bw: 16 KiB at 1000 MT/s, tR 30 us -> ~46.5 us."""
    spec = load_flash_spec("cambricon_llm_s", {"command_overhead": True})
    _, (t,) = _seq(spec, 1)
    assert t == 7_000 + 100_000 + 30 * US + 20_000 + 16_384_000
    assert t / US == pytest.approx(46.6, abs=0.3)
    plain = load_flash_spec("cambricon_llm_s")
    assert _seq(plain, 1)[1] == [30 * US + 16_384_000]           # overheads off: the old number exactly


@pytest.mark.parametrize("mts", [333, 800, 1000, 2400])
def test_channel_saturation_equals_bus_rate(mts):
    """Enough dies per channel: after the first tR the bus never idles, so throughput = MT/s x 1 B."""
    spec = load_flash_spec("tlc_ssd", {"channels": 2, "dies_per_channel": 16, "channel_bandwidth": f"{mts} MB/s"})
    n = 2 * 64
    _, done = _seq(spec, n)
    moved = n * spec.page_size
    per_channel = moved / spec.channels / ((max(done) - spec.t_read) / 1e12)
    assert per_channel == pytest.approx(mts * 1e6, rel=1e-6)


@pytest.mark.parametrize("dies", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("planes", [1, 2, 4])
def test_die_scaling_is_the_smaller_of_array_and_channel(dies, planes):
    spec = load_flash_spec("tlc_ssd", {"channels": 1, "dies_per_channel": dies, "planes_per_die": planes})
    n = 96 * dies * planes
    _, done = _seq(spec, n)
    got = n * spec.page_size / (max(done) / 1e12)
    want = min(dies * planes * spec.page_size / (spec.t_read / 1e12), spec.channel_bandwidth)
    assert got == pytest.approx(want, rel=0.03)
    assert got <= want * (1 + 1e-9)


@pytest.mark.parametrize("tr_us,bw", [(30, "1 GB/s"), (10, "1 GB/s"), (50, "0.4 GB/s")])
def test_cache_read_period_is_max_not_sum(tr_us, bw):
    """One plane, sequential: a data + cache register pair overlaps tR with data-out."""
    over = {"channels": 1, "dies_per_channel": 1, "dies_per_chip": 1, "planes_per_die": 1, "t_read": f"{tr_us} us",
            "channel_bandwidth": bw}
    n = 40
    cached = load_flash_spec("cambricon_llm_s", over)
    single = load_flash_spec("cambricon_llm_s", {**over, "page_buffers": 1})
    xfer = cached.page_size * 1e12 / cached.channel_bandwidth
    t_c = _seq(cached, n)[1][-1]
    t_s = _seq(single, n)[1][-1]
    period_c = (t_c - cached.t_read - xfer) / (n - 1)
    period_s = (t_s - single.t_read - xfer) / (n - 1)
    assert period_c == pytest.approx(max(cached.t_read, xfer), rel=1e-6)
    assert period_s == pytest.approx(single.t_read + xfer, rel=1e-6)


def test_multi_plane_same_offset_rule():
    """MQSim: planes of a die read together only at the same page offset; `independent` (AMPI) always."""
    over = {"channels": 1, "dies_per_channel": 1, "dies_per_chip": 1, "planes_per_die": 2,
            "channel_bandwidth": "100 GB/s"}
    same = load_flash_spec("cambricon_llm_s", {**over, "multi_plane_rule": "same_offset"})
    indep = load_flash_spec("cambricon_llm_s", over)
    p = same.page_size
    aligned = [(0, p, False), (p, p, False)]                     # plane 0 and plane 1, offset 0
    skewed = [(0, p, False), (3 * p, p, False)]                  # plane 0 offset 0, plane 1 offset 1
    tr = same.t_read
    for reqs in (aligned, skewed):
        assert max(_run(indep, reqs)[1]) < 1.1 * tr               # independent: concurrent
    assert max(_run(same, aligned)[1]) < 1.1 * tr
    assert max(_run(same, skewed)[1]) > 2 * tr                    # serialised on the die


def test_mqsim_stock_config_is_channel_bound():
    """MQSim default (8 ch x 4 chips x 2 dies x 2 planes, 8 KiB, 75 us, 333 MT/s): ~8 x 333 MB/s."""
    spec = load_flash_spec("tlc_ssd", {"channels": 8, "dies_per_channel": 8, "planes_per_die": 2,
                                       "page_size": "8 KiB", "t_read": "75 us", "channel_bandwidth": "333 MB/s"})
    n = 8 * 400
    _, done = _seq(spec, n)
    assert n * spec.page_size / (max(done) / 1e12) / 1e9 == pytest.approx(2.66, rel=0.02)


def test_read_retry_and_ecc_tiers_add_latency():
    base = load_flash_spec("cambricon_llm_s")
    aged = load_flash_spec("cambricon_llm_s", {"read_retries": 2, "t_ecc": "5 us"})
    t0 = _seq(base, 1)[1][0]
    t1 = _seq(aged, 1)[1][0]
    assert t1 - t0 == 2 * base.t_read + 5 * US


def test_program_erase_and_energy():
    spec = load_flash_spec("cambricon_llm_s", {"program_energy": "100 pJ", "erase_energy": "50 nJ",
                                               "command_overhead": True})
    e = Engine()
    f = FlashLevel("f", e, spec)
    f.submit(Request(0, spec.page_size, True, "kv"))
    e.run()
    # data in (cmd + page at 1 GB/s + tADL), then tWB + tPROG
    programmed = 7_000 + 16_384_000 + 70_000 + 100_000 + spec.t_prog
    assert f.last_ps == programmed
    assert f.erase_block(0) == programmed + spec.t_erase + 100_000      # waits for its unit, then tBERS + tWB
    energy = f.energy_breakdown_pj()
    assert energy["program"] == spec.page_size * 8 * 100
    assert energy["erase"] == 50_000
    assert energy["channel"] == (spec.page_size + 7 + 5) * 8 * 3.6
    assert f.stats()["erases"] == 1


def test_read_energy_per_bit_sensed_and_moved():
    spec = load_flash_spec("cambricon_llm_s", {"read_retries": 1})
    f, _ = _seq(spec, 8)
    energy = f.energy_breakdown_pj()
    assert energy["array_read"] == 8 * 2 * spec.page_size * 8 * 18.28       # each retry senses again
    assert energy["channel"] == 8 * spec.page_size * 8 * 3.6
    assert 0 < f.stats()["channel_utilisation"] <= 1


@pytest.mark.parametrize("over,key", [({"planes_per_die": 0}, "planes_per_die"),
                                      ({"multi_plane_rule": "ampi"}, "multi_plane_rule"),
                                      ({"dies_per_chip": 3}, "dies_per_chip"),
                                      ({"command_overhead": "yes"}, "command_overhead")])
def test_bad_options_name_the_key(over, key):
    with pytest.raises(ConfigError, match=key):
        load_flash_spec("cambricon_llm_s", over)
    if key == "planes_per_die":
        with pytest.raises(ConfigError, match="die without planes"):
            load_flash_spec("cambricon_llm_s", over)
