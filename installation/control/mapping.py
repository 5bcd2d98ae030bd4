"""The control map: controller addresses (TouchOSC's 0..1 controls) and MIDI controls to parameters and actions."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from installation.config import is_finite_number, line_of, read_toml
from installation.control.midimap import MidiBinding, read_midi
from installation.errors import UserError
from installation.scene.commands import ACTIONS
from installation.scene.parameters import PLAYER_PARAMETERS

log = logging.getLogger(__name__)
DEFAULT_MAP = Path(__file__).with_name("touchosc.toml")
PACKAGE = Path(os.path.realpath(__file__)).parent.parent
"""The installed package: its maps are never written (an upgrade would replace them, and with
them what was learned), so learned bindings go to ``learned_map``."""
LEARNED_NAME = "control-map.toml"
_SPECS = {spec.name: spec for spec in PLAYER_PARAMETERS}


@dataclass(frozen=True)
class Control:
    """One controller address: the parameters it sets (with ranges) or the action it runs."""

    address: str
    parameters: tuple[tuple[str, float, float], ...] = ()
    action: str | None = None

    def scale(self, values: tuple[float, ...]) -> list[tuple[str, float]]:
        """Map 0..1 values into each parameter's range."""
        return [
            (name, low + (high - low) * value) for (name, low, high), value in zip(self.parameters, values, strict=True)
        ]

    @property
    def label_address(self) -> str:
        """Where the layout's label showing this control's value listens (fed back as text)."""
        return self.address + "/value"

    def unscale(self, name: str, value: float) -> float | None:
        """A parameter's value as this control's 0..1 position (for feedback), or None."""
        for parameter, low, high in self.parameters:
            if parameter == name and high != low:
                return min(max((value - low) / (high - low), 0.0), 1.0)
        return None


@dataclass(frozen=True)
class Mapping:
    """A show's control map: OSC addresses and MIDI controls, read from one file."""

    controls: dict[str, Control]
    midi: tuple[MidiBinding, ...] = ()
    path: Path = DEFAULT_MAP
    text: str = field(default="", repr=False)
    """The file's text, kept so that MIDI learn can save the map with its comments."""


def learned_map(state_file: Path | None) -> Path:
    """Where MIDI learn keeps the map when the show's map is the package's: next to the state
    file (the show's other memory), else in ~/.config/metamorph."""
    folder = state_file.parent if state_file is not None else Path.home() / ".config" / "metamorph"
    return folder / LEARNED_NAME


def show_map(osc_map: Path, learned: Path) -> Path:
    """The map a show loads: ``learned`` in place of the built-in map once MIDI learn saved it,
    so that what was learned still drives the show after a restart with the same options."""
    if _real(osc_map) != _real(DEFAULT_MAP) or not learned.is_file():
        return osc_map
    log.info("control map: %s, the built-in map with the MIDI bindings learned", learned)
    return learned


def learn_target(osc_map: Path, learned: Path) -> Path:
    """Where MIDI learn saves the map: over the user's own ``--osc-map`` file, but never over a
    file of the installed package (however its path is written), which goes to ``learned``."""
    if not _real(osc_map).is_relative_to(PACKAGE):
        return osc_map
    log.info("midi: learned bindings will be saved to %s (%s belongs to the installed package)", learned, osc_map)
    return learned


def _real(path: Path) -> Path:
    """The path with its links followed (``os.path.realpath`` does not raise on a link loop, which
    is then refused as unreadable by ``load_mapping``)."""
    return Path(os.path.realpath(path))


def load_mapping(path: Path = DEFAULT_MAP) -> Mapping:
    """Read a mapping file; a mistake is one sentence naming the file, the line and the fix."""
    text, data = read_toml(path, "OSC map", "--osc-map")
    controls = data.get("controls")
    if not isinstance(controls, dict):
        raise UserError(f'The OSC map {path} has no [controls."/address"] tables; see the default map for the layout.')
    osc = {address: _control(path, text, address, entry) for address, entry in controls.items()}
    return Mapping(osc, read_midi(path, text, data), path, text)


def _control(path: Path, text: str, address: str, entry: object) -> Control:
    def fail(problem: str) -> UserError:
        # The line is looked for only for a mistake: a scan of the text for each of 20,000
        # controls made a large map's start grow with the square of its size.
        return UserError(f"The OSC map {path}, line {line_of(text, address)}: control {address} {problem}.")

    if not address.startswith("/") or not isinstance(entry, dict):
        raise fail("must be a table under an address that starts with /")
    if "action" in entry:
        if entry["action"] not in ACTIONS:
            raise fail(f"has an unknown action {entry['action']!r}; use one of {', '.join(ACTIONS)}")
        return Control(address, action=entry["action"])
    names = entry.get("parameters", [entry["parameter"]] if "parameter" in entry else None)
    if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
        raise fail("needs a parameter, a list of parameters, or an action")
    parameters = []
    for name in names:
        if name not in _SPECS:
            raise fail(f"names an unknown parameter {name!r}; use one of {', '.join(_SPECS)}")
        spec = _SPECS[name]
        bounds = entry.get("range", [spec.minimum, spec.maximum])
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(is_finite_number(b) for b in bounds)):
            raise fail("has a range that is not two numbers, such as range = [0.0, 4.0]")
        parameters.append((name, float(bounds[0]), float(bounds[1])))
    return Control(address, parameters=tuple(parameters))
