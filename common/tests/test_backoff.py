"""The one backoff (common/backoff.py): bounds, growth, cap, jitter; and no second copy of the formula."""

from __future__ import annotations

import ast
import math
import random
from pathlib import Path

import pytest

from common.backoff import backoff_seconds

ROOT = Path(__file__).resolve().parents[2]


def _lowest(low: float, high: float) -> float:
    return low


def _highest(low: float, high: float) -> float:
    return high


def test_the_first_attempt_waits_base_and_each_further_attempt_doubles_it():
    waits = [backoff_seconds(n, base=5.0, cap=10_000.0) for n in range(1, 8)]
    assert waits == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0]


def test_attempt_zero_or_below_waits_like_the_first():
    assert backoff_seconds(0, base=3.0, cap=100.0) == backoff_seconds(-4, base=3.0, cap=100.0) == 3.0


def test_the_wait_stops_growing_at_the_cap_even_for_absurd_attempts():
    assert backoff_seconds(7, base=60.0, cap=1800.0) == 1800.0  # 60 × 64 = 3840 > cap
    assert backoff_seconds(5000, base=60.0, cap=1800.0) == 1800.0  # 2**4999 would overflow a float
    assert backoff_seconds(5000, base=2.0, cap=math.inf) == math.inf


@pytest.mark.parametrize(("jitter", "attempts"), [((0.5, 1.0), [1, 2, 3, 6, 20]), ((1.0, 1.15), [1, 2, 5, 30])])
def test_jitter_stays_within_its_bounds_around_the_capped_delay(jitter, attempts):
    low, high = jitter
    rng = random.Random(26)
    for attempt in attempts:
        plain = min(900.0, 5.0 * 2 ** (attempt - 1))
        values = {backoff_seconds(attempt, base=5.0, cap=900.0, jitter=jitter, uniform=rng.uniform) for _ in range(200)}
        assert all(plain * low <= v <= plain * high for v in values)
        assert len(values) > 100  # really jittered
        assert backoff_seconds(attempt, base=5.0, cap=900.0, jitter=jitter, uniform=_lowest) == plain * low
        assert backoff_seconds(attempt, base=5.0, cap=900.0, jitter=jitter, uniform=_highest) == plain * high


def test_the_cap_applies_before_the_jitter():
    """A jitter above 1 is a floor-keeping spread: at the cap the wait is between cap and cap × high."""
    assert backoff_seconds(50, base=60.0, cap=1800.0, jitter=(1.0, 1.15), uniform=_highest) == pytest.approx(2070.0)


def test_the_default_random_draw_is_used_without_a_uniform_argument():
    values = {backoff_seconds(3, base=10.0, cap=100.0, jitter=(0.5, 1.0)) for _ in range(50)}
    assert all(20.0 <= v <= 40.0 for v in values) and len(values) > 1


@pytest.mark.parametrize("kwargs", [
    {"base": -1.0, "cap": 10.0},
    {"base": 1.0, "cap": -10.0},
    {"base": 1.0, "cap": 10.0, "jitter": (1.2, 1.0)},
    {"base": 1.0, "cap": 10.0, "jitter": (-0.1, 1.0)},
])
def test_nonsense_numbers_are_refused(kwargs):
    with pytest.raises(ValueError):
        backoff_seconds(1, **kwargs)


PRODUCTION = ["common", "config", "integrations", "orders", "billing", "backoffice"]


def _powers_of_two(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno for node in ast.walk(tree)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)
        and isinstance(node.left, ast.Constant) and node.left.value in (2, 2.0)
    ]


def test_no_production_module_but_the_helper_computes_an_exponential_backoff():
    """``2 ** n`` outside common/backoff.py is a second backoff: call ``backoff_seconds`` with your numbers."""
    found = []
    for package in PRODUCTION:
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if "tests" in rel.parts or "migrations" in rel.parts or "sandbox" in rel.parts or rel == Path("common/backoff.py"):
                continue
            found += [f"{rel}:{line}" for line in _powers_of_two(path)]
    assert found == []
