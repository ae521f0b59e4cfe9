"""A private directory for the broker's ipc:// worker endpoint, and the sweep of stale ones.

The directory (mode 0700, under the temporary directory) holds the backend
socket and a lock file the broker keeps locked while it runs. A broker killed
with -9 cannot remove it; the next one to start removes every such directory
whose lock nobody holds any more.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["RunDir", "sweep"]

PREFIX = "scapyrpc-"


class RunDir:
    """`RunDir()` creates and locks the directory; `close()` removes it."""

    def __init__(self, parent: str | None = None) -> None:
        parent = parent or tempfile.gettempdir()
        sweep(parent)
        self.path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))
        # locked before it is named "lock": another broker's sweep never finds it unlocked
        self._lock = os.open(self.path / "lock.new", os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(self.path / "lock.new", self.path / "lock")

    @property
    def backend(self) -> str:
        """The ipc:// endpoint for the broker's worker socket."""
        return f"ipc://{self.path / 'backend'}"

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock)


def sweep(parent: str) -> list[Path]:
    """Remove the directories of brokers that are gone (their lock is free); returns them."""
    removed = []
    for path in Path(parent).glob(f"{PREFIX}*"):
        try:
            if not path.is_dir() or path.is_symlink() or path.stat().st_uid != os.getuid():
                continue
            fd = os.open(path / "lock", os.O_WRONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live broker holds it
        finally:
            os.close(fd)
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
