"""Logging of every scapyrpc process: one level, text or JSON lines, stderr and an optional file.

The broker configures it from `LogConfig` and hands the same `LogConfig` to its
zygote (in the spec on its control socket), so workers log at the same level,
in the same format, to the same places: under systemd stderr is the journal,
and `-l FILE` holds every process's lines, a -32096's traceback included.

The file is reopened by each process on its own: when SIGHUP arrives (any of
our processes; `systemctl reload` or logrotate's postrotate signal the broker,
`systemctl kill -s HUP` all of them) and when the file was moved or removed
(rotation without a signal). Reopening happens at the next record, never inside
the signal handler. Other libraries log warnings and above only.
"""

from __future__ import annotations

import datetime
import json
import logging
import logging.handlers
import signal
import sys
import threading
from typing import Any

from scapyrpc.config.options import LogConfig

__all__ = ["configure", "reopen"]

TEXT_FORMAT = "%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, pid, message, the record's `fields`
    (passed as `extra={"fields": {...}}`) and the traceback, if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            entry.update(fields)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class ReopeningFileHandler(logging.handlers.WatchedFileHandler):
    """Appends to a file; reopens it after `request_reopen()` (safe in a signal handler) and,
    as WatchedFileHandler does, when the file at its path is no longer the one it has open."""

    def __init__(self, path: str) -> None:
        super().__init__(path, mode="a", encoding="utf-8")
        self._reopen = False

    def request_reopen(self) -> None:
        self._reopen = True

    def emit(self, record: logging.LogRecord) -> None:
        if self._reopen:
            self._reopen = False
            if self.stream is not None:
                self.stream.close()
            self.stream = self._open()
            self._statstream()
        super().emit(record)


def configure(log: LogConfig) -> None:
    """Log as `log` says in this process (replacing any earlier set-up); SIGHUP reopens the file.

    Raises OSError when the file cannot be opened."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log.log_file:
        handlers.append(ReopeningFileHandler(log.log_file))
    formatter = JsonFormatter() if log.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("scapyrpc").setLevel(log.log_level.upper())
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, _on_hangup)


def reopen() -> None:
    """Reopen the log file of this process at its next record."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, ReopeningFileHandler):
            handler.request_reopen()


def _on_hangup(signum: int, frame: object) -> None:
    reopen()
