"""Level 1 (tile/epoch events) against Level 0: never below, within 1% from 4K tokens; prefixes extended
exactly; interleaving off shows the +Architecture stall; K/V reloads wait on the off-chip level."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.units.attention import AttentionConfig, AttentionShape, level0
from archsim.units.attention.epochs import level1, port_for

BW, CLOCK = 400 * 2**30, 940e6


def both(shape, cfg, bw=BW, latency_ps=100_000, **kw):
    lv = level0(shape, cfg, bw, CLOCK)
    return lv, level1(shape, cfg, lv, port_for(None, bw, latency_ps), **kw)


@pytest.mark.parametrize("seq", [1024, 4096, 16384, 65536])
def test_bert_level1_is_at_or_above_level0_and_within_1pct_from_4k(seq):
    lv, l1 = both(AttentionShape(B=64, H=12, P=seq, M=seq, E=64, F=64), AttentionConfig())
    gap = l1.cycles / lv.cycles - 1
    assert gap >= 0
    assert gap < (1e-2 if seq >= 4096 else 2e-3)
    assert l1.busy_1d == lv.array_busy("1d") and l1.busy_2d == lv.array_busy("2d")


@pytest.mark.parametrize("shape", [
    AttentionShape(B=2, H=2, P=4096, M=32768, E=64, F=64),                        # blocks x key steps
    AttentionShape(B=3, H=2, P=2048, M=2048, E=64, F=64),                         # blocks
    AttentionShape(B=3, H=2, P=4096, M=4096, E=64, F=64, causal=True),            # heads
    AttentionShape(B=2, H=4, P=1000, M=3000, E=128, F=64, kv_heads=2),            # GQA, padding, 2D-bound
])
def test_extended_prefixes_equal_the_whole_stream(shape):
    cfg = AttentionConfig()
    _, whole = both(shape, cfg)
    _, ext = both(shape, cfg, tile_budget=0)
    assert not whole.extrapolated and ext.extrapolated
    assert ext.cycles == whole.cycles and ext.stall_cycles == whole.stall_cycles


def test_interleaving_off_shows_the_architecture_stall():
    shape = AttentionShape(B=8, H=12, P=1024, M=1024, E=64, F=64)
    lv, l1 = both(shape, AttentionConfig(variant="architecture"))
    tiles = 8 * 12 * 16
    assert lv.cycles == 458 * tiles                     # the artifact's closed form
    # RM waits for LM's M0-row drain (the artifact's 256 a tile) and RNV for SLNV's (M0 - F more)
    assert l1.cycles / tiles == pytest.approx(65 + 256 + 1 + 8 + 256 + 64, rel=2e-3)
    assert l1.stall_cycles >= 256 * tiles
    _, fm = both(shape, AttentionConfig())
    assert fm.stall_cycles < l1.stall_cycles / 100


def test_kv_reloads_wait_on_a_slow_off_chip_level():
    shape = AttentionShape(B=1, H=4, P=4096, M=4096, E=64, F=64)
    cfg = AttentionConfig(rows=32, cols=32, width_1d=32, buffer="512 KiB")
    _, fast = both(shape, cfg, bw=400 * 2**30)
    slow_lv, slow = both(shape, cfg, bw=2 * 2**30)
    assert slow_lv.bound == "dram" and slow.cycles >= slow_lv.cycles
    assert slow.cycles > fast.cycles and slow.stall_cycles > 1000 * fast.stall_cycles
    _, no_prefetch = both(shape, cfg.model_copy(update={"kv_prefetch_tiles": 0}))
    assert no_prefetch.cycles > fast.cycles


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 700), st.integers(1, 700),
       st.sampled_from([16, 64, 128]), st.sampled_from([16, 64, 128]), st.sampled_from([8, 16, 32]), st.booleans(),
       st.sampled_from(["64 KiB", "1 MiB"]))
def test_level1_never_below_level0(B, H, P, M, E, F, n, causal, buf):
    if causal and M < P:
        M = P
    shape = AttentionShape(B=B, H=H, P=P, M=M, E=E, F=F, causal=causal)
    cfg = AttentionConfig(rows=n, cols=n, width_1d=n, buffer=buf)
    lv, l1 = both(shape, cfg)
    assert l1.cycles >= lv.cycles


def test_narrow_buffer_port_or_link_stretch_the_tasks():
    shape = AttentionShape(B=4, H=12, P=4096, M=4096, E=64, F=64)
    lv, base = both(shape, AttentionConfig())
    assert base.cycles / lv.cycles - 1 < 2e-3            # FuseMax's 32 x 512 B port and per-column links keep up
    _, port = both(shape, AttentionConfig(buffer_bytes_per_cycle=512))
    _, link = both(shape, AttentionConfig(link_words_per_cycle=64))
    assert port.cycles > 1.4 * base.cycles                # (256 + 256) x 64 x 2 B a QK tile over 512 B a cycle
    assert link.cycles > base.cycles                      # SLNV: 256 x 64 words over 64 a cycle
