"""Sweep figures label their axes with the metric and its SI unit, and colour points by the swept
axis that separates them."""
from archsim.sweep.figures import metric_scale, separating_axis


def test_axes_read_in_si_units():
    f, label = metric_scale("time_ns", [1.2e7, 6.6e7])
    assert label == "time (ms)" and abs(1.2e7 * f - 12.0) < 1e-9
    assert metric_scale("energy_pj", [7.7e10])[1] == "energy (mJ)"
    assert metric_scale("dram_read_bytes", [3.1e8])[1] == "DRAM reads (MB)"
    assert metric_scale("utilization", [0.5]) == (100.0, "PE utilisation (%)")


def test_the_legend_dimension_separates_the_points():
    rows = [{"rows": r, "df": d, "time_ns": 1e6 * (4 if r == 16 else 1) * (1.01 if d == "os" else 1.0),
             "energy_pj": 1e9 * (2 if r == 16 else 1)} for r in (16, 64) for d in ("os", "ws", "is")]
    assert separating_axis(rows, ["df", "rows"], "time_ns", "energy_pj") == "rows"
