"""Named looks: sets of look and motion parameters in TOML files, shipped in ``scene/presets/``.

A preset names some parameters (by their registry names) and, optionally, the fit (``contain``
or ``cover``, the ``cover`` parameter). At start it sets the show's values (options given on
the command line or in the config win); during the show (the ``preset`` command: keys, OSC
``/preset NAME``, any surface) its parameters glide to the new values over a second and every
parameter it does not name stays as it is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from installation.config import is_finite_number, line_of, read_toml
from installation.errors import UserError
from installation.files import MIB
from installation.scene.parameters import SPECS

PRESET_FOLDER = Path(__file__).parent / "presets"
DEFAULT_LOOK = "gentle"
FITS = {"contain": 0.0, "cover": 1.0}
"""``fit`` words and the ``cover`` parameter's value for each."""
PRESET_LIMIT = MIB
"""The most a preset file may hold: a preset of every parameter is under 1 KB."""


@dataclass(frozen=True)
class Preset:
    """A named look: the values of the parameters it sets."""

    name: str
    description: str = ""
    values: dict[str, float] = field(default_factory=dict)


@functools.cache
def shipped_presets() -> dict[str, Preset]:
    """The presets that come with metamorph, by name (read once)."""
    return {path.stem: read_preset(path) for path in sorted(PRESET_FOLDER.glob("*.toml"))}


def load_preset(wanted: str | Path) -> Preset:
    """A shipped preset by name, or a preset file; anything else is one sentence with the fix."""
    shipped = shipped_presets()
    if str(wanted) in shipped:
        return shipped[str(wanted)]
    path = Path(wanted)
    if path.suffix == ".toml" or path.exists():
        return read_preset(path)
    raise UserError(
        f"--preset {wanted} is neither a preset ({', '.join(shipped)}) nor a .toml file; "
        "see `metamorph presets` (the encoder's speed is --encoder-preset)."
    )


def read_preset(path: Path) -> Preset:
    """The preset in ``path``: every key a parameter name, ``fit`` or ``description``."""
    text, data = read_toml(path, "preset", "--preset", PRESET_LIMIT)
    values: dict[str, float] = {}
    for key, value in data.items():
        where = f"The preset {path}, line {line_of(text, key)}: {key}"
        if key == "fit":
            values["cover"] = FITS[_one_of(list(FITS), value, where)]
        elif key in SPECS:
            if not is_finite_number(value):
                raise UserError(f"{where} must be a number, e.g. {key} = {SPECS[key].default:g}.")
            values[key] = SPECS[key].clamp(float(value))
        elif key != "description":
            raise UserError(f"{where} is not a parameter; use one of {', '.join(SPECS)} or fit.")
    return Preset(path.stem, str(data.get("description", "")), values)


def _one_of(names: list[str], value: object, where: str) -> str:
    """``value`` when it is one of ``names``, else one sentence naming them."""
    if not isinstance(value, str) or value not in names:
        raise UserError(f"{where} must be one of {', '.join(names)}.")
    return value
