"""Config loading: units, located errors, did-you-mean, overrides, sources, round-trip."""
from __future__ import annotations

import pytest

from archsim.config.loader import load_config, parse_overrides
from archsim.config.quantities import parse_bandwidth, parse_duration_ps, parse_frequency, parse_size
from archsim.errors import ConfigError

BASE = """\
name: t
clock: 1 GHz
units:
  sa:
    kind: systolic
    rows: 8
    cols: 4
    dataflow: os
energy:
  mac: {value: 0.2 pJ, source: "a paper"}
  sram_byte: 1 pJ
"""


def write(tmp_path, text: str):
    p = tmp_path / "d.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("text,kind,expected", [
    ("1 GHz", "f", 1e9), ("800 MHz", "f", 8e8), ("256 KiB", "s", 262144), ("2 MB", "s", 2_000_000),
    ("64 B", "s", 64), ("25.6 GB/s", "b", 25.6e9), ("16 GiB/s", "b", 16 * 2**30), ("30 us", "d", 30_000_000),
    ("13.75 ns", "d", 13_750), ("500 ps", "d", 500),
])
def test_quantities_parse(text, kind, expected):
    fn = {"f": parse_frequency, "s": parse_size, "b": parse_bandwidth, "d": parse_duration_ps}[kind]
    assert fn(text) == pytest.approx(expected)


@pytest.mark.parametrize("bad", ["1", "1 furlong", "GHz", "-1 GHz", 3, None])
def test_quantities_reject(bad):
    with pytest.raises(ValueError):
        parse_frequency(bad)


def test_loads_and_keeps_sources(tmp_path):
    d = load_config(write(tmp_path, BASE))
    assert d.units["sa"].rows == 8 and d.units["sa"].dataflow == "os"
    assert d.energy.mac.value == pytest.approx(0.2) and d.energy.mac.source == "a paper"
    assert d.energy.table()["sram_byte"] == pytest.approx(1.0)
    assert d.clock == 1e9


def test_unknown_key_names_file_line_path_and_hint(tmp_path):
    p = write(tmp_path, BASE.replace("    cols: 4", "    colz: 4"))
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert f"{p}:7" in msg and "units.sa.colz" in msg and "did you mean 'cols'" in msg
    assert "units.sa.cols: required key is missing" in msg


def test_wrong_unit_and_bad_enum(tmp_path):
    p = write(tmp_path, BASE.replace("1 pJ", "1 GHz").replace("dataflow: os", "dataflow: xs"))
    msg = str(pytest.raises(ConfigError, load_config, p).value)
    assert "energy.sram_byte" in msg and "unknown unit 'GHz'" in msg
    assert "units.sa.dataflow" in msg and "'xs'" in msg


def test_overrides_apply_and_are_validated(tmp_path):
    p = write(tmp_path, BASE)
    d = load_config(p, overrides=parse_overrides(["units.sa.rows=16", "clock=2 GHz"]))
    assert d.units["sa"].rows == 16 and d.clock == 2e9
    msg = str(pytest.raises(ConfigError, load_config, p, overrides={"units.sa.rows": 0}).value)
    assert "--set units.sa.rows" in msg and "greater than or equal to 1" in msg


def test_bad_override_syntax():
    with pytest.raises(ConfigError):
        parse_overrides(["units.sa.rows"])


def test_duplicate_key_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="appears twice"):
        load_config(write(tmp_path, BASE + "name: again\n"))
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "units: [\n"))
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.yaml")


def test_missing_units_section(tmp_path):
    msg = str(pytest.raises(ConfigError, load_config, write(tmp_path, "name: x\n")).value)
    assert "units" in msg and "missing" in msg


def test_round_trip_through_dump(tmp_path):
    d = load_config(write(tmp_path, BASE))
    again = load_config(d.model_dump(mode="json"))
    assert again.model_dump() == d.model_dump()


def test_unknown_kind_points_at_the_kind_line_with_a_hint(tmp_path):
    p = write(tmp_path, BASE.replace("kind: systolic", "kind: systolik"))
    msg = str(pytest.raises(ConfigError, load_config, p).value)
    assert f"{p}:5: units.sa.kind: unknown kind 'systolik' (did you mean 'systolic'?)" in msg


def test_bare_number_energy_says_the_unit_is_missing(tmp_path):
    msg = str(pytest.raises(ConfigError, load_config, write(tmp_path, BASE.replace("1 pJ", "3"))).value)
    assert "energy.sram_byte" in msg and "a number with a unit" in msg
