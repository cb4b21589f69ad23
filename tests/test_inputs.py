"""Flag values (allysim.inputs): normal input, every refusal, and junk from hypothesis
that may only ever raise AllysimError (issue 12, item 15 and the --set/--fix cases)."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allysim.errors import AllysimError, DesignError, InputError
from allysim.inputs import (MAX_LAMBDAS, Range, check_set_vs_design, parse_fix, parse_lambdas,
                            parse_params, parse_range, parse_sets, parse_stages, parse_vary)

MESSAGE_CAP = 400


def refused(fn, *args, cls=AllysimError, **kwargs) -> str:
    with pytest.raises(cls) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg and len(msg) <= MESSAGE_CAP, msg[:200]
    return msg


# -- --set --------------------------------------------------------------------------------
def test_parse_sets():
    assert parse_sets([]) == {}
    assert parse_sets(["a=1", " b = -2.5e-3 ", "c=1_000", "a=1.0"]) == {"a": 1.0, "b": -0.0025,
                                                                        "c": 1000.0}
    assert math.copysign(1, parse_sets(["a=-0"])["a"]) == 1.0      # -0 is read as 0


@pytest.mark.parametrize("values,pattern", [
    (["a=1", "a=2"], r"^--set a=1 --set a=2: a is set twice with different values; give one$"),
    (["a"], r"^--set 'a': expected name=value"),
    (["=1"], r"^--set '=1': expected name=value"),
    (["a="], r"^--set 'a=': value '' is not a number$"),
    (["a=x"], r"^--set 'a=x': value 'x' is not a number$"),
    (["a=nan"], r"^--set 'a=nan': a = nan: expected a finite number$"),
    (["a=-inf"], r"^--set 'a=-inf': a = -inf: expected a finite number$"),
    (["a=1e400"], r"^--set 'a=1e400': a = 1e400: expected a finite number \(float64 reads 1e400 as inf\)$"),
    (["a=１"], r"value '１' is not a number"),                 # float() would read 1.0
    (["a=" + "9" * 5000], r"a = 9{40}…: expected a finite number"),
])
def test_parse_sets_refuses(values, pattern):
    msg = refused(parse_sets, values, cls=InputError)
    assert re.search(pattern, msg), msg


# -- --fix --------------------------------------------------------------------------------
def test_parse_fix():
    assert parse_fix(["China=SLICE", " US = TRANS ", "China=SLICE"]) == {"China": "SLICE", "US": "TRANS"}
    assert parse_fix(()) == {}


@pytest.mark.parametrize("values,pattern", [
    (["China=SLICE", "China=HOLD"],
     r"^--fix China=SLICE --fix China=HOLD: China is fixed twice, at SLICE and at HOLD; give one$"),
    (["China"], r"^--fix 'China': expected Player=STRATEGY"),
    (["China="], r"expected Player=STRATEGY"),
    (["=SLICE"], r"expected Player=STRATEGY"),
])
def test_parse_fix_refuses(values, pattern):
    msg = refused(parse_fix, values, cls=InputError)
    assert re.search(pattern, msg), msg


# -- --params -----------------------------------------------------------------------------
def test_parse_params():
    assert parse_params(None) is None
    assert parse_params("a") == ["a"]
    assert parse_params(" a , b ") == ["a", "b"]
    assert parse_params(["a", "b"]) == ["a", "b"]


@pytest.mark.parametrize("text,pattern", [
    (",", r"^--params ',': empty parameter name.*leave --params out to sample every parameter\)$"),
    ("", r"empty parameter name"),
    ("a,,b", r"empty parameter name"),
    ("a,", r"empty parameter name"),
    (" ", r"empty parameter name"),
    ("a,b,a", r"^--params 'a,b,a': parameter 'a' is listed twice$"),
    (5, r"expected parameter names separated by commas"),
    (["a", 5], r"expected parameter names"),
])
def test_parse_params_refuses(text, pattern):
    msg = refused(parse_params, text, cls=DesignError)
    assert re.search(pattern, msg), msg


# -- --lambda -----------------------------------------------------------------------------
def test_parse_lambdas():
    assert parse_lambdas("1.5") == (1.5,)
    assert parse_lambdas("0.5,1.5,4") == (0.5, 1.5, 4.0)
    got = parse_lambdas("0:20:201")
    assert len(got) == 201 and got == tuple(float(v) for v in np.linspace(0, 20, 201))
    assert parse_lambdas("0:1:3, 7") == (0.0, 0.5, 1.0, 7.0)
    assert parse_lambdas("2:2:1") == (2.0,)
    assert len(parse_lambdas(f"0:1:{MAX_LAMBDAS}")) == MAX_LAMBDAS


@pytest.mark.parametrize("text,pattern", [
    # the CLI's wording (tests/test_cli.py) starts each message
    ("", r"^--lambda '': expected finite numbers >= 0, .*got an empty value$"),
    (",", r"^--lambda ',': expected finite numbers >= 0"),
    ("1,,2", r"got an empty value"),
    ("-1", r"^--lambda '-1': expected finite numbers >= 0; lambda -1 is negative$"),
    ("1,-1", r"^--lambda '1,-1': expected finite numbers >= 0; lambda -1 is negative$"),
    ("-1:2:4", r"expected finite numbers >= 0; LO -1 is negative"),
    ("nan", r"^--lambda 'nan': expected finite numbers >= 0; lambda nan is not finite$"),
    ("inf", r"^--lambda 'inf': expected finite numbers >= 0; lambda inf is not finite$"),
    ("0:inf:3", r"HI inf is not finite"),
    ("1e400", r"lambda 1e400 is not finite \(float64 reads it as inf\)"),
    ("x", r"^--lambda 'x': expected comma-separated numbers or ranges LO:HI:N, .*lambda 'x' is not a number$"),
    ("１", r"lambda '１' is not a number"),
    ("0:20", r"'0:20' is neither"),
    ("0:20:201:4", r"is neither"),
    ("0:20:0", r"N must be >= 2 \(or 1 with LO == HI\), got 0"),
    ("0:20:1", r"N must be >= 2"),
    ("0:20:-5", r"N must be a whole number, got '-5'"),
    ("0:20:2.5", r"N must be a whole number"),
    ("5:1:3", r"LO 5 is above HI 1"),
    ("0:1:10000000000000", r"10,000,000,000,000 values; expected at most 10,000"),
    ("0:1:" + "9" * 5000, r"N must be a whole number"),
    (f"0:1:{MAX_LAMBDAS},2", r"more than 10,000 values"),
])
def test_parse_lambdas_refuses(text, pattern):
    msg = refused(parse_lambdas, text, cls=InputError)
    assert msg.startswith("--lambda "), msg
    assert re.search(pattern, msg), msg


# -- --stages -----------------------------------------------------------------------------
def test_parse_stages():
    assert parse_stages(None) is None
    assert parse_stages("US>Japan>China,NorthKorea") == (("US",), ("Japan",), ("China", "NorthKorea"))
    assert parse_stages(" A -> B , C ") == (("A",), ("B", "C"))


@pytest.mark.parametrize("text,pattern", [
    ("", r"empty stage or player name"),
    ("US>>Japan", r"empty stage or player name"),
    ("US>Japan,", r"empty stage or player name"),      # was silently dropped
    (">", r"empty stage"),
    ("US>US", r"'US' appears twice"),
    ("US,US", r"'US' appears twice"),
])
def test_parse_stages_refuses(text, pattern):
    msg = refused(parse_stages, text, cls=InputError)
    assert re.search(pattern, msg), msg


# -- --set with a design ------------------------------------------------------------------
def test_check_set_vs_design():
    check_set_vs_design({"y": 1.0}, ["x"])
    check_set_vs_design({}, ["x"])
    msg = refused(check_set_vs_design, {"y": 1.0, "x": 0.5}, ["x"], cls=InputError)
    assert msg == "--set x=0.5: x is also swept by --vary; drop one"
    msg = refused(check_set_vs_design, {"x": 2.0}, ("x",), design_flag="--sample", cls=InputError)
    assert msg == "--set x=2: x is also swept by --sample; drop one"


# -- ranges -------------------------------------------------------------------------------
def test_parse_range():
    assert parse_range("a=0:5", "--along") == Range("a", 0.0, 5.0, None)
    assert parse_range(" a = -1 : 1 : 3", "--along") == Range("a", -1.0, 1.0, 3)
    assert parse_range("a=2:2:1", "--along") == ("a", 2.0, 2.0, 1)
    assert parse_vary("a=0:1e308:3") == ("a", 0.0, 1e308, 3)
    assert parse_vary("a=-8e307:8e307:3") == ("a", -8e307, 8e307, 3)


def test_range_width_must_be_finite():
    # 1e308 - (-1e308) overflows to inf, as [-1e308, 1.7e308] does.
    assert not math.isfinite(1e308 - (-1e308))
    msg = refused(parse_vary, "a=-1e308:1.7e308:5", cls=DesignError)
    assert msg == ("--vary 'a=-1e308:1.7e308:5': range [-1e+308, 1.7e+308] is inf wide (float64 "
                   "overflows); expected a finite width HI - LO")
    refused(parse_range, "a=-1e308:1e308", "--along", cls=DesignError)


@pytest.mark.parametrize("text,pattern", [
    ("a=0:5", r"expected name=lo:hi:n"),                 # N required for --vary
    ("a", r"expected name=lo:hi:n"),
    ("=0:1:3", r"expected name=lo:hi:n"),
    ("a=0:1:3:4", r"expected name=lo:hi:n"),
    ("a=x:1:3", r"LO 'x' is not a number"),
    ("a=0:nan:3", r"HI = nan: expected a finite number"),
    ("a=0:inf:3", r"HI = inf: expected a finite number"),
    ("a=2:1:3", r"LO 2 is above HI 1"),
    ("a=0:1:1", r"N must be >= 2"),
    ("a=0:1:0", r"N must be >= 2"),
    ("a=0:1:x", r"N must be a whole number, got 'x'"),
    ("a=0:1:1e6", r"N must be a whole number, got '1e6'"),
])
def test_parse_vary_refuses(text, pattern):
    msg = refused(parse_vary, text, cls=DesignError)
    assert msg.startswith("--vary "), msg
    assert re.search(pattern, msg), msg


# -- junk ---------------------------------------------------------------------------------
junk = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="0123456789.:,=-+eEinfa_ >x\u00a0\uff11\u0661", max_size=40),
    st.from_regex(r"[a-z]{1,3}=-?[0-9.e+-]{0,8}:-?[0-9.e+-]{0,8}(:[0-9_-]{0,25})?", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(junk)
def test_junk_only_ever_raises_allysim_error(text):
    for call in (lambda: parse_sets([text]), lambda: parse_sets([text, text + "1"]),
                 lambda: parse_fix([text]), lambda: parse_fix([text, text + "x"]),
                 lambda: parse_params(text), lambda: parse_lambdas(text),
                 lambda: parse_stages(text), lambda: parse_range(text, "--along"),
                 lambda: parse_vary(text)):
        try:
            out = call()
        except AllysimError as exc:
            msg = str(exc)
            assert "\n" not in msg and len(msg) <= MESSAGE_CAP, msg[:200]
            continue
        if isinstance(out, dict):
            assert all(isinstance(v, (str, float)) for v in out.values())
            assert all(math.isfinite(v) for v in out.values() if isinstance(v, float))
        elif isinstance(out, Range):
            assert math.isfinite(out.hi - out.lo) and out.lo <= out.hi


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789.:,e-", max_size=30))
def test_accepted_lambdas_are_finite_and_non_negative(text):
    try:
        values = parse_lambdas(text)
    except InputError:
        return
    assert 1 <= len(values) <= MAX_LAMBDAS
    assert all(math.isfinite(v) and v >= 0 for v in values)
