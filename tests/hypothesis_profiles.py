"""Hypothesis profiles, for the property tests that do not pin their own example count (the wire fuzz).

`default` (and `ci`, which hypothesis loads by itself when CI is set) keep hypothesis' own
settings but for the count, sized for `make test`; `nightly` runs ten times as many, with
fresh random examples each night: `pytest --hypothesis-profile nightly tests/test_wire_fuzz.py`.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

EXAMPLES = 150

settings.register_profile("default", settings.get_profile("default"), max_examples=EXAMPLES)
settings.register_profile("ci", settings.get_profile("ci"), max_examples=EXAMPLES)
settings.register_profile(
    "nightly",
    settings.get_profile("default"),
    max_examples=10 * EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
