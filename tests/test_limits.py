"""Resource limits (allysim.limits): settings, estimators and refusals (issue 12, items 11, 12)."""
from __future__ import annotations

import re

import pytest

from allysim import compile_model, load_model
from allysim.errors import AllysimError, ModelError
from allysim.limits import (DEFAULT_KERNEL_MAX_ENTRIES, DEFAULT_MAX_MEMORY, DEFAULT_MAX_POINTS,
                            LimitError, check_bytes, check_kernel, check_model_size, check_points,
                            kernel_entries, kernel_too_large, max_batch, max_memory, max_points,
                            parse_bytes, payoff_bytes)
from tests.test_model_limits import _big_model


@pytest.fixture(autouse=True)
def _no_limits_from_the_shell(monkeypatch):
    for name in ("ALLYSIM_MAX_MEMORY", "ALLYSIM_MAX_POINTS", "ALLYSIM_KERNEL_MAX_ENTRIES"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("text,want", [
    ("4294967296", 4294967296), ("8GB", 8 * 10**9), ("8 gb", 8 * 10**9), ("512MiB", 512 * 2**20),
    ("1.5e9", 1_500_000_000), ("1_000KB", 10**6), ("2TiB", 2 * 2**40), ("100B", 100),
])
def test_parse_bytes(text, want):
    assert parse_bytes(text, "X") == want


@pytest.mark.parametrize("text", ["", "lots", "-1", "0", "8XB", "1e30", "nan", "inf", "GB", "８GB"])
def test_parse_bytes_refuses(text):
    with pytest.raises(LimitError, match=r"^X="):
        parse_bytes(text, "X")


def test_settings_from_the_environment(monkeypatch):
    assert max_memory() == DEFAULT_MAX_MEMORY == 4 * 2**30
    assert max_points() == DEFAULT_MAX_POINTS == 10**9
    monkeypatch.setenv("ALLYSIM_MAX_MEMORY", "300GB")
    monkeypatch.setenv("ALLYSIM_MAX_POINTS", "1e12")
    assert max_memory() == 300 * 10**9 and max_points() == 10**12
    for bad in ("0", "-5", "1.5", "many", "1e30"):
        monkeypatch.setenv("ALLYSIM_MAX_POINTS", bad)
        with pytest.raises(LimitError, match=r"^ALLYSIM_MAX_POINTS="):
            max_points()


def test_payoff_bytes_is_exact():
    assert payoff_bytes((3, 3, 3, 3)) == 4 * 81 * 8
    assert payoff_bytes((6,) * 12) == 6**12 * 12 * 8 == 208_971_104_256
    assert payoff_bytes((2, 2), batch=1000) == 1000 * 2 * 4 * 8
    assert payoff_bytes((100,) * 100) == 100 * 100**100 * 8       # no overflow


def test_check_model_size_names_model_shape_size_limit_and_setting(monkeypatch):
    m = load_model("four-power")
    check_model_size(m)
    monkeypatch.setenv("ALLYSIM_MAX_MEMORY", "1KB")
    with pytest.raises(ModelError) as info:
        check_model_size(m)
    msg = str(info.value)
    assert msg == ("four-power.toml: model four-power: 4 players with 3^4 = 81 strategy profiles "
                   "need 2.53 KiB for the payoffs of one point, more than the limit of 1000 bytes; "
                   "set ALLYSIM_MAX_MEMORY (e.g. ALLYSIM_MAX_MEMORY=1GiB) to allow it")


def test_max_batch(monkeypatch):
    assert max_batch((3, 3, 3, 3)) == DEFAULT_MAX_MEMORY // 2592
    monkeypatch.setenv("ALLYSIM_MAX_MEMORY", "100")
    assert max_batch((3, 3, 3, 3)) == 1            # never below one point


def test_check_bytes(monkeypatch):
    check_bytes(10**6, "x")
    with pytest.raises(LimitError, match=r"^run --solver mixed: needs about 11.2 GiB, more than the "
                                         r"limit of 4 GiB; set ALLYSIM_MAX_MEMORY"):
        check_bytes(int(11.2 * 2**30), "run --solver mixed")


def test_check_points_estimate_and_refusal(monkeypatch):
    text = check_points(2_000_000, "--n 2000000", rate=1e6, bytes_per_point=24)
    assert text == "2,000,000 points: about 2 s at 1,000,000 points/s and 45.8 MiB of results"
    with pytest.raises(LimitError) as info:
        check_points(10**13, "--n 10000000000000")
    msg = str(info.value)
    assert re.fullmatch(r"--n 10000000000000: 10,000,000,000,000 points: about [\d.e+]+ years at "
                        r"10,000 points/s and [\d.]+ TiB of results, more than the limit of "
                        r"1,000,000,000 points; pass --yes to run it anyway \(or set "
                        r"ALLYSIM_MAX_POINTS\)", msg), msg
    assert check_points(10**13, "--n 10000000000000", yes=True).startswith("10,000,000,000,000 points")
    assert check_points(DEFAULT_MAX_POINTS, "--n") .startswith("1,000,000,000 points")
    monkeypatch.setenv("ALLYSIM_MAX_POINTS", "100")
    with pytest.raises(LimitError, match="--vary a=0:1:101: 101 points"):
        check_points(101, "--vary a=0:1:101")
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(LimitError, match="expected a whole number >= 1"):
            check_points(bad, "--n")


def test_kernel_too_large():
    four = load_model("four-power")
    assert kernel_entries(four) == 4 * 3**4 and not kernel_too_large(four)
    seven = compile_model(_big_model(7, 4), where="seven.toml")
    assert kernel_entries(seven) == 7 * 4**7 and kernel_too_large(seven)
    assert DEFAULT_KERNEL_MAX_ENTRIES == 4096


def test_check_kernel_refuses_an_explicit_request():
    check_kernel(load_model("four-power"))
    seven = compile_model(_big_model(7, 4), where="seven.toml")
    with pytest.raises(LimitError, match=r"^--backend numba: model big7x4 has 114,688 payoff entries "
                                         r"per point \(7 players x 4\^7 profiles\), past the 4,096 .*"
                                         r"use --backend numpy, or set ALLYSIM_KERNEL_MAX_ENTRIES$"):
        check_kernel(seven)


def test_kernel_threshold_is_a_setting(monkeypatch):
    four = load_model("four-power")
    monkeypatch.setenv("ALLYSIM_KERNEL_MAX_ENTRIES", "100")
    assert kernel_too_large(four)
    monkeypatch.setenv("ALLYSIM_KERNEL_MAX_ENTRIES", "none")
    with pytest.raises(AllysimError, match="^ALLYSIM_KERNEL_MAX_ENTRIES='none'"):
        kernel_too_large(four)
