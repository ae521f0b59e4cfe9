"""Where each setting of `serve` and `worker` comes from: a flag, the environment, a TOML file, or its default.

The settings are the fields of `options.py` that have an option; for each, the
first of these places that has a value wins:

1. the command line: `--max-queue 500`;
2. the environment: `SCAPYRPC_MAX_QUEUE=500` (the setting's name in capitals, `_`
   for `-`; booleans 1/0, true/false, yes/no, on/off; an empty variable is unset);
3. the TOML file named by `--config FILE` (or `SCAPYRPC_CONFIG`): one flat table
   whose keys are the settings' names, with dashes or underscores
   (`max-queue = 500`), values of their type (`request-timeout = 2.5`);
4. the default in `options.py`.

A value is checked the same way wherever it comes from (type, range, choices),
and the first bad value, unknown key or unreadable file is one `SettingsError`
line naming where it was. `SCAPYRPC_ARGS` (the systemd unit's extra arguments)
is not a setting.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scapyrpc.config import options

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["NOT_SETTINGS", "Resolved", "SettingsError", "add_arguments", "render", "resolve", "settings_of"]

ENV_PREFIX = "SCAPYRPC_"
CONFIG_ENV = "SCAPYRPC_CONFIG"
NOT_SETTINGS = frozenset({"SCAPYRPC_ARGS", CONFIG_ENV})  # the unit's extra arguments; the file itself
MAX_CONFIG_BYTES = 64 * 1024  # a settings file is a few dozen lines; /dev/zero is not one
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(Exception):
    """A bad value, an unknown key or an unreadable file: one line for the operator."""


@dataclass(frozen=True)
class Setting:
    """One setting: where its value goes in the configuration and what it accepts."""

    dest: str  # flattened path, as argparse stores it: broker__max_queue
    field: dataclasses.Field[Any]
    kind: type  # int, float, str or bool

    @property
    def name(self) -> str:
        return options.name(self.field)

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.field.name.upper()

    @property
    def hidden(self) -> bool:
        return self.field.metadata.get("help") == argparse.SUPPRESS


def settings_of(cls: type) -> list[Setting]:
    """The settings of configuration class `cls`, in the order of its fields."""
    return [
        Setting(dest, f, options.plain(kind)) for dest, f, kind in options.leaves(cls) if f.metadata.get("flag", True)
    ]


@dataclass(frozen=True)
class Resolved:
    """A configuration and, for each setting, its value and where the value came from."""

    config: Any
    settings: list[Setting]
    values: dict[str, Any]  # dest -> value
    sources: dict[str, str]  # dest -> "flag", "env NAME", "file PATH" or "default"
    warnings: list[str]


def add_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """The options of `cls`, plus --config and --print-options."""
    options.add_options(parser, cls)
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help=f"read settings from this TOML file: flat keys named as the long options (max-queue = "
        f"500); options and {ENV_PREFIX}* variables win over it (default: ${CONFIG_ENV} if set)",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print every setting's value and where it came from (flag, env, file, default), as TOML, then exit",
    )


def resolve(cls: type, args: argparse.Namespace, environ: Mapping[str, str], command: str) -> Resolved:
    """The configuration that flags, environment, file and defaults describe, in that order of precedence."""
    table = settings_of(cls)
    given = vars(args)
    path = given.get("config") or environ.get(CONFIG_ENV) or None
    in_file = _read_file(path, table, command) if path else {}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for s in table:
        flag = given.get(s.dest, dataclasses.MISSING)
        text = environ.get(s.env, "")
        if flag is not dataclasses.MISSING:
            values[s.dest], sources[s.dest] = _checked(s, flag, f"--{s.name} {flag}"), "flag"
        elif text:
            values[s.dest], sources[s.dest] = _from_text(s, text, f"{s.env}={text}"), f"env {s.env}"
        elif s.dest in in_file:
            values[s.dest], sources[s.dest] = in_file[s.dest], f"file {path}"
        elif options.required(s.field):
            raise SettingsError(f"--{s.name} is required (or {s.env}, or {s.name} in the --config file)")
        else:
            values[s.dest], sources[s.dest] = options.default(s.field), "default"
    return Resolved(options.from_values(cls, values), table, values, sources, _unknown_variables(environ))


def _unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """SCAPYRPC_* variables that are no setting of either command (a typo is reported, not ignored)."""
    known = {s.env for cls in (options.ServerConfig, options.RemoteWorkerConfig) for s in settings_of(cls)}
    return [
        f"{key} is not a scapyrpc setting; ignored"
        for key in sorted(environ)
        if key.startswith(ENV_PREFIX) and key not in known and key not in NOT_SETTINGS
    ]


def _read_file(path: str, table: list[Setting], command: str) -> dict[str, Any]:
    """dest -> value of every key in the TOML file at `path`."""
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise SettingsError(f"cannot read the config file {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise SettingsError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KiB: not a settings file")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    by_name = {s.name: s for s in table}
    found: dict[str, Any] = {}
    for key, value in data.items():
        s = by_name.get(key.replace("_", "-"))
        if s is None and isinstance(value, dict):
            raise SettingsError(f"{path}: [{key}]: settings are top-level keys, not tables (max-queue = 500)")
        if s is None:
            close = difflib.get_close_matches(key.replace("_", "-"), list(by_name), 1)
            hint = (
                f"did you mean {close[0]}?"
                if close
                else f"the keys are the long options of `scapyrpc {command} --help`"
            )
            raise SettingsError(f"{path}: unknown key {key!r} ({hint})")
        if s.dest in found:
            raise SettingsError(f"{path}: {s.name} is given twice")
        found[s.dest] = _from_toml(s, value, f"{path}: {key} = {_toml_value(value)}")
    return found


def _from_text(s: Setting, text: str, where: str) -> Any:
    """An environment variable's value, as its setting's type."""
    value: Any
    if s.kind is bool:
        word = text.strip().lower()
        if word not in _TRUE | _FALSE:
            raise SettingsError(f"{where}: not a boolean (1/0, true/false, yes/no, on/off)")
        value = word in _TRUE
    elif s.kind is int:
        try:
            value = int(text.strip())
        except ValueError:
            raise SettingsError(f"{where}: not an integer") from None
    elif s.kind is float:
        try:
            value = float(text.strip())
        except ValueError:
            raise SettingsError(f"{where}: not a number") from None
    else:
        value = text
    return _checked(s, value, where)


def _from_toml(s: Setting, value: Any, where: str) -> Any:
    """A TOML value, which must already be of its setting's type (an integer may stand for a float)."""
    if s.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not s.kind:
        raise SettingsError(f"{where}: not {_KIND_NAMES[s.kind]}")
    return _checked(s, value, where)


_KIND_NAMES = {bool: "a boolean (true or false)", int: "an integer", float: "a number", str: "a string"}


def _checked(s: Setting, value: Any, where: str) -> Any:
    """`value` if its setting accepts it, else a SettingsError naming `where` it came from."""
    meta = s.field.metadata
    if meta.get("choices") and value not in meta["choices"]:
        raise SettingsError(f"{where}: must be one of {', '.join(meta['choices'])}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingsError(f"{where}: must be a finite number")
    if meta.get("positive") and value <= 0:
        raise SettingsError(f"{where}: must be more than 0")
    if meta.get("zero") and value == 0:
        return value
    if meta.get("minimum") is not None and value < meta["minimum"]:
        zero = f" (or 0: {meta['zero']})" if meta.get("zero") else ""
        raise SettingsError(f"{where}: must be {options.shown(s.field, meta['minimum'])} or more{zero}")
    if meta.get("maximum") is not None and value > meta["maximum"]:
        raise SettingsError(f"{where}: must be {options.shown(s.field, meta['maximum'])} or less")
    return value


# ---- --print-config ---------------------------------------------------------------------------


def render(resolved: Resolved, command: str) -> str:
    """The effective settings as TOML (a file `--config` can read back), each line saying where its
    value came from; unset ones and secrets are comments."""
    lines = [
        f"# scapyrpc {command}: effective settings. A flag wins over a {ENV_PREFIX}* variable, which wins",
        "# over the --config file, which wins over the default.",
    ]
    for s in resolved.settings:
        source = resolved.sources[s.dest]
        if s.hidden and source == "default":
            continue
        value = resolved.values[s.dest]
        if value is None:
            shown = s.field.metadata.get("shown")
            text = f"# {s.name} = (not set{': ' + shown if shown else ''})"
        elif s.field.metadata.get("secret"):
            text = f"# {s.name} = (set, not shown)"
        else:
            text = f"{s.name} = {_toml_value(value)}"
        lines.append(f"{text:<44} # {source}")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value).replace("\x7f", "\\u007f")  # a TOML basic string
    return repr(value)
