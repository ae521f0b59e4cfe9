"""Where the hold-out finds TRex's files: a trex-core checkout, or an unpacked release.

A trex-core checkout holds `scripts/` (profiles in `scripts/stl`, the simulator's pcaps in
`scripts/exp`, TRex's Python under `scripts/automation`) and `src/gtest`. A release package
(`v3.08.tar.gz`) unpacks to a directory holding what `scripts/` holds, and no `src/`: the C++
gtests' programs cannot be read from it. Nothing is copied: every file is read in place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "TREX_CORE"
INTERACTIVE = Path("automation/trex_control_plane/interactive")
REGRESSION = Path("automation/regression/functional_tests/stl_basic_tests.py")
GTEST = Path("src/gtest/trex_stateless_gtest.cpp")


class CheckoutError(Exception):
    """The path given is not a TRex checkout (or is missing what the hold-out reads)."""


@dataclass(frozen=True)
class TrexCheckout:
    """The TRex files the hold-out reads; `gtest_source` is None when the checkout has no `src/`."""

    root: Path
    scripts: Path
    gtest_source: Path | None
    version: str  # "VERSION v3.08", or "no VERSION file"

    @property
    def interactive(self) -> Path:
        """The directory holding TRex's Python package `trex`."""
        return self.scripts / INTERACTIVE

    @property
    def regression(self) -> Path:
        """TRex's regression test that runs the profiles through its simulator."""
        return self.scripts / REGRESSION


def locate(given: str | None) -> TrexCheckout:
    """The checkout named by `--trex` or, failing that, by the environment variable TREX_CORE."""
    path = given or os.environ.get(ENV_VAR)
    if not path:
        raise CheckoutError(f"no TRex checkout: pass --trex PATH or set {ENV_VAR} (see tests/holdout/README.md)")
    root = Path(path).expanduser().resolve()
    scripts = root / "scripts" if (root / "scripts").is_dir() else root
    for needed in (scripts / "stl", scripts / "exp", scripts / INTERACTIVE / "trex", scripts / REGRESSION):
        if not needed.exists():
            raise CheckoutError(f"{root} is not a TRex checkout: {needed} is missing (see tests/holdout/README.md)")
    gtest = root / GTEST
    version_file = next((p for p in (root / "VERSION", scripts / "VERSION") if p.is_file()), None)
    version = f"VERSION {version_file.read_text().strip()}" if version_file else "no VERSION file"
    return TrexCheckout(root, scripts, gtest if gtest.is_file() else None, version)
