"""The patterns a configuration selects: what a press and a double press start."""

from __future__ import annotations

from .. import patterns
from ..patterns import Pattern, PatternError
from .errors import ConfigError
from .schema import Config
from .toml_text import toml_string


def session_pattern(cfg: Config) -> Pattern:
    """The pattern a short press starts (a preset, or the validated custom one)."""
    s = cfg.session
    if s.pattern == patterns.CUSTOM:
        if s.inhale is None or s.exhale is None:
            raise ConfigError('session.pattern = "custom" needs session.inhale and session.exhale')
        try:
            return patterns.custom_pattern(s.inhale, s.exhale, s.hold_in or 0.0, s.hold_out or 0.0)
        except PatternError as e:
            raise ConfigError(str(e)) from None
    return _preset("session.pattern", s.pattern)


def long_pattern(cfg: Config) -> Pattern:
    """The pattern a double press starts."""
    return _preset("session.long_pattern", cfg.session.long_pattern)


def _preset(key: str, name: str) -> Pattern:
    if name not in patterns.PRESETS:
        raise ConfigError(
            f"{key} = {toml_string(name)} is not a preset pattern; "
            f"allowed: {', '.join(patterns.PRESETS)}"
        )
    return patterns.PRESETS[name]
