"""A ready TouchOSC (Mk1 ``.touchosc``) layout whose controls send exactly the mapped addresses.

A ``.touchosc`` file is a zip holding ``index.xml``; control names and custom OSC addresses
(``osc_cs``) are base64-encoded in it. Faders for single parameters, toggles for pause and
blackout, push buttons for next and previous, an XY pad for two parameters; each control sends
0..1, which the mapping scales into the parameter's range.
"""

from __future__ import annotations

import base64
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from installation.control.mapping import Control, Mapping

_WIDTH, _HEIGHT = 1024, 768
_COLOURS = {"faderv": "purple", "toggle": "red", "push": "green", "xy": "blue"}


def control_type(control: Control) -> str:
    """The TouchOSC widget that fits a mapped control."""
    if control.action in ("pause", "blackout"):
        return "toggle"
    if control.action is not None:
        return "push"
    return "xy" if len(control.parameters) == 2 else "faderv"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def layout_xml(mapping: Mapping) -> bytes:
    """``index.xml`` of a one-page layout: faders along the top, buttons and the pad below."""
    layout = ElementTree.Element("layout", version="17", mode="0", orientation="horizontal")
    page = ElementTree.SubElement(layout, "tabpage", name=_b64("1"), scalef="0.0", scalet="1.0")
    controls = sorted(mapping.controls.values(), key=lambda c: (control_type(c) != "faderv", c.address))
    faders = [c for c in controls if control_type(c) == "faderv"]
    others = [c for c in controls if control_type(c) != "faderv"]
    for column, control in enumerate(faders):
        _add(page, control, x=20 + column * 110, y=20, w=90, h=400)
    for column, control in enumerate(others):
        size = 300 if control_type(control) == "xy" else 120
        _add(page, control, x=20 + column * 140, y=450, w=size, h=size if size == 300 else 120)
    return ElementTree.tostring(layout, encoding="UTF-8", xml_declaration=True)


def _add(page: ElementTree.Element, control: Control, x: int, y: int, w: int, h: int) -> None:
    kind = control_type(control)
    label = control.action or "/".join(name for name, _, _ in control.parameters)
    ElementTree.SubElement(
        page,
        "control",
        name=_b64(label),
        type=kind,
        x=str(x),
        y=str(y),
        w=str(w),
        h=str(h),
        color=_COLOURS[kind],
        scalef="0.0",
        scalet="1.0",
        osc_cs=_b64(control.address),
        response="absolute",
        inverted="false",
        centered="false",
        local_off="false",
    )


def write_layout(mapping: Mapping, path: Path) -> None:
    """Write the layout file TouchOSC opens."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.xml", layout_xml(mapping))
