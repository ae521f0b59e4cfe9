"""Every setting once (`options`: name, type, default, bound, help) and where each value comes
from (`sources`: flag > environment > TOML file > default)."""
