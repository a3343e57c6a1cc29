"""Writing a config: the effective one (`config show`) and the commented defaults."""

from __future__ import annotations

from dataclasses import fields

from .schema import SECTIONS, Config
from .toml_text import toml_scalar
from .validation import Spec


def to_data(cfg: Config) -> dict[str, dict[str, object]]:
    """Config -> native TOML data (unset keys left out)."""
    data: dict[str, dict[str, object]] = {}
    for section in SECTIONS:
        obj = getattr(cfg, section)
        body: dict[str, object] = {}
        for f in fields(obj):
            value = getattr(obj, f.name)
            if value is not None:
                body[f.name] = f.metadata["spec"].dump(value)
        data[section] = body
    return data


def _render(cfg: Config, comments: bool) -> str:
    out: list[str] = []
    if comments:
        out += [
            "# breathring configuration (TOML). Every key is optional; these are the defaults.",
            "# Check it with: breathring config check",
            "",
        ]
    for section, cls in SECTIONS.items():
        if comments:
            title = (cls.__doc__ or "").splitlines()[0].split("]: ", 1)[-1]
            out.append(f"# {title[:1].upper()}{title[1:]}")
        out.append(f"[{section}]")
        obj = getattr(cfg, section)
        for f in fields(obj):
            spec: Spec = f.metadata["spec"]
            value = getattr(obj, f.name)
            if comments:
                out.append(f"# {f.metadata['doc']}; allowed {spec.allowed(f.name)}")
            if value is None:
                example = _CUSTOM_EXAMPLES.get(f.name)
                out.append(f"# {f.name} = {example!r}" if comments else f"# {f.name} is unset")
            else:
                out.append(f"{f.name} = {toml_scalar(spec.dump(value))}")
        out.append("")
    return "\n".join(out)


#: Values shown (commented out) for the custom-pattern keys in `default_toml`.
_CUSTOM_EXAMPLES = {"inhale": 4.0, "hold_in": 0.0, "exhale": 6.0, "hold_out": 0.0}


def to_toml(cfg: Config) -> str:
    """The effective config as TOML: every key; parses back to an equal Config."""
    return _render(cfg, comments=False)


def default_toml() -> str:
    """A commented default config file: every key, its default, meaning and allowed values."""
    return _render(Config(), comments=True)
