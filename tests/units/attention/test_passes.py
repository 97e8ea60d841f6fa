"""Pass counts of the paper's cascades (Sec. III-IV) and its toy example."""
from archsim.units.attention.passes import (
    CASCADES,
    ONE_PASS,
    THREE_PASS,
    TOY,
    TOY_REASSOCIATED,
    CascadeEinsum,
    count_passes,
)


def test_attention_cascades():
    assert {k: count_passes(c).passes for k, c in CASCADES.items()} == \
        {"3-pass": 3, "2-pass (deferred divide)": 2, "1-pass": 1}
    three = count_passes(THREE_PASS)
    assert three.pass_of == {"QK": 1, "GM": 1, "SN": 2, "SD": 2, "A": 3, "AV": 3}
    assert three.live_fibers == ("QK", "SN") and three.footprint_words(4096) == 2 * 4096
    assert count_passes(ONE_PASS).footprint_words(2**20) == 0      # a tile, independent of M


def test_toy_example_reassociation_saves_a_pass():
    assert count_passes(TOY, "k").passes == 2 and count_passes(TOY, "k").live_fibers == ("A",)
    assert count_passes(TOY_REASSOCIATED, "k").passes == 1


def test_a_tile_reduction_or_a_recurrence_is_not_a_full_pass():
    tile_max = [CascadeEinsum("LM", ("m1", "p"), {"X": ("m1", "m0", "p")}),
                CascadeEinsum("Y", ("m1", "m0", "p"), {"X": ("m1", "m0", "p"), "LM": ("m1", "p")})]
    assert count_passes(tile_max).passes == 1
    full = [CascadeEinsum("G", ("p",), {"X": ("m1", "m0", "p")}),
            CascadeEinsum("Y", ("m1", "m0", "p"), {"X": ("m1", "m0", "p"), "G": ("p",)})]
    assert count_passes(full).passes == 2
    running = [CascadeEinsum("R", ("p",), {"X": ("m1", "m0", "p")}, iterative="m1"),
               CascadeEinsum("Y", ("m1", "m0", "p"), {"X": ("m1", "m0", "p"), "R": ("p",)})]
    assert count_passes(running).passes == 1
