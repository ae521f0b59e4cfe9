"""The profiles TRex's regression compares with its simulator's pcaps, read from the checkout.

TRex's `stl_basic_tests.py` (class `CStlBasic_Test`) names them in test methods that call
`self.run_py_profile_path(profile, options, ..., tunables=..., expected=...)`. Those methods are
taken from the file as they are (its imports need TRex's test rig, so the module itself is not
imported) and run with a stand-in `self` that records each call instead of running the simulator.
"""

from __future__ import annotations

import ast
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

TEST_CLASS = "CStlBasic_Test"
RUNNER = "run_py_profile_path"


@dataclass(frozen=True)
class RegressionCase:
    """One simulator run of the regression: `stl-sim -f stl/<profile> <options> [-t k=v ...]`."""

    profile: str  # relative to scripts/stl
    options: str
    tunables: dict[str, Any] | None
    golden: str  # relative to scripts/

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Recorder:
    """Stands in for the test case: records what each call would simulate and compare."""

    def __init__(self) -> None:
        self.cases: list[RegressionCase] = []

    def run_py_profile_path(
        self,
        profile: str,
        options: str,
        silent: bool = False,
        do_no_remove: bool = False,
        compare: bool = True,
        tunables: dict[str, Any] | None = None,
        expected: str | None = None,
    ) -> None:
        if not compare:  # the regression runs it without comparing: nothing to hold out against
            return
        golden = expected or os.path.join("exp", os.path.basename(profile).split(".")[0] + ".pcap")
        self.cases.append(RegressionCase(profile, options, tunables, golden))


def _profile_methods(source: str, filename: str) -> list[ast.FunctionDef]:
    """The methods of the test class that compare a profile's simulation with a pcap."""
    tree = ast.parse(source, filename)
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == TEST_CLASS]
    if not classes:
        raise ValueError(f"{filename}: no class {TEST_CLASS}")
    methods = []
    for node in classes[0].body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
            continue
        calls = [sub for sub in ast.walk(node) if isinstance(sub, ast.Attribute) and sub.attr == RUNNER]
        if calls:
            methods.append(node)
    return methods


def regression_cases(regression_file: Path) -> list[RegressionCase]:
    """Every (profile, options, tunables, golden pcap) TRex's regression simulates and compares."""
    source = regression_file.read_text()
    recorder = _Recorder()
    for method in _profile_methods(source, str(regression_file)):
        method.decorator_list = []
        module = ast.Module(body=[method], type_ignores=[])
        namespace: dict[str, Any] = {"os": os}
        exec(compile(module, str(regression_file), "exec"), namespace)  # noqa: S102  (TRex's test, data only)
        namespace[method.name](recorder)
    if not recorder.cases:
        raise ValueError(f"{regression_file}: no {RUNNER} calls found")
    return recorder.cases
