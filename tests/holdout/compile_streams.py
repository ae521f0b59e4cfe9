"""Child process: compile the regression's profiles with TRex's own Python into stream JSON.

    python compile_streams.py SCRIPTS_DIR OUT_JSON

Runs in TRex's `scripts/` directory, with TRex's bundled Scapy 2.4.3 (`trex_imports`). Each case
of `regression_cases` goes through TRex's `stl-sim` entry point (`trex_stl_sim.main`) with the
command line TRex's regression gives it; only the last step, writing the `add_stream` commands to a
file and starting the `bp-sim` binary, is replaced by keeping those commands. So the streams are
exactly what TRex's simulator is handed: its option parsing, tunables, profile loading, stream ids
and JSON round trip included.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from regression_cases import RegressionCase, regression_cases
from trex_checkout import INTERACTIVE, REGRESSION
from trex_imports import load_trex


def sim_command(case: RegressionCase, scripts: Path) -> list[str]:
    """The arguments TRex's regression (`run_sim`) passes to `trex_stl_sim.main`."""
    words = ["-f", f"stl/{case.profile}", "-o", "generated/a.pcap", "-p", str(scripts), *shlex.split(case.options)]
    for key, value in (case.tunables or {}).items():
        words += ["-t", f"{key}={value}"]
    return words


def compile_case(case: RegressionCase, scripts: Path) -> dict[str, Any]:
    """The case with what the simulator would be given: its streams, packet limit and cores."""
    from trex.stl import trex_stl_sim

    captured: list[dict[str, Any]] = []

    def keep_commands(sim: Any, commands: list[dict[str, Any]]) -> None:
        captured.append({"commands": commands, "limit": sim.pkt_limit, "cores": sim.dp_core_count})

    trex_stl_sim.STLSim._STLSim__run = keep_commands  # the bp-sim launch, name-mangled
    result: dict[str, Any] = case.as_dict()
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            rc = trex_stl_sim.main(args=sim_command(case, scripts))
    except BaseException as exc:  # noqa: BLE001  (argparse exits; a profile can raise anything)
        result["error"] = f"{type(exc).__name__}: {exc}"
        return result
    if rc != 0 or not captured:
        result["error"] = f"stl-sim refused it (rc {rc}): {printed.getvalue().strip()[-400:]}"
        return result
    run = captured[0]
    result["limit"], result["cores"] = run["limit"], run["cores"]
    result["streams"] = [
        {"stream_id": cmd["params"]["stream_id"], "stream": cmd["params"]["stream"]}
        for cmd in run["commands"]
        if cmd["method"] == "add_stream"
    ]
    return result


def main(argv: list[str]) -> int:
    scripts, out = Path(argv[0]), Path(argv[1])
    load_trex(scripts / INTERACTIVE)
    cases = [compile_case(case, scripts) for case in regression_cases(scripts / REGRESSION)]
    out.write_text(json.dumps(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
