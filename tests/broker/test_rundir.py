"""The private ipc directory: a broker's own is never swept, not even while it is being made."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from scapyrpc.broker.rundir import RunDir, sweep


def test_a_directory_is_never_swept_while_it_is_being_made(tmp_path: Path) -> None:
    stop = threading.Event()

    def sweeper() -> None:
        while not stop.is_set():
            sweep(str(tmp_path))

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        made = [RunDir(str(tmp_path)) for _ in range(300)]
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert [d.path for d in made if not (d.path / "lock").exists()] == []
    for d in made:
        d.close()
    assert sweep(str(tmp_path)) == [] and list(tmp_path.iterdir()) == []


def test_the_directory_of_a_broker_that_is_gone_is_swept(tmp_path: Path) -> None:
    gone = RunDir(str(tmp_path))
    os.close(gone._lock)  # what the kernel does when the broker dies
    assert sweep(str(tmp_path)) == [gone.path]
    assert not gone.path.exists()
