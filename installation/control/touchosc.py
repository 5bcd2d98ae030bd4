"""TouchOSC layouts whose controls send exactly the mapped addresses, and a picture of them.

Two formats, one plan. The plan places every mapped control on a landscape iPad page (1024x768,
the top 40 px left to the page's tab bar) with a label naming it above and a label showing its
value below (fed back as text to ``ADDRESS/value``), wrapping into rows and pages when a map
has more controls than fit. Then:

- ``.touchosc`` (TouchOSC Mk1, the Editor's format, version 17): a zip holding ``index.xml``;
  names, texts and custom addresses are base64. Mk1 stores every page in the portrait frame
  (768 wide, its tab bar the last 40 px of x), and a landscape layout is
  ``orientation="vertical"`` with its coordinates rotated: portrait x = 728 - (y + h), portrait
  y = x, width and height swapped; so a fader that stands upright on the landscape screen is
  a ``faderh`` and horizontal text a ``labelv``. An XY pad's portrait x runs up the landscape
  screen and its portrait y (growing downwards in portrait) to the right: ``rev_xy`` sends them
  as (right, up), so the pad's second value grows upwards.
- ``.tosc`` (TouchOSC since 2021): zlib-compressed XML ``<lexml version='3'>``: a root GROUP
  holding a PAGER whose GROUP pages (below its 40 px tab bar) hold FADER, BUTTON, XY and LABEL
  nodes, each with typed properties, values and an OSC message whose path and arguments are
  built from partials. Frames are relative to the parent with the origin top left; the XY
  pad's y follows them, so its second argument is scaled from 1 to 0 to grow upwards.

``read_layout`` parses either file back into the plan's terms, for the preview and the tests.
"""

from __future__ import annotations

import base64
import io
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from installation.control.mapping import Control, Mapping
from installation.errors import UserError
from installation.files import written
from installation.scene.commands import TOGGLES

PAGE_W, PAGE_H = 1024, 768
"""The landscape iPad page (TouchOSC Mk1 mode 1 is its 768x1024 portrait frame)."""
TAB_BAR = 40
CONTENT_H = PAGE_H - TAB_BAR
GAP = 20
LABEL_H = 30
_SIZES = {"fader": (90, 240), "toggle": (130, 100), "push": (130, 100), "xy": (240, 240)}
_COLOURS = {"fader": "purple", "toggle": "red", "push": "green", "xy": "blue", "label": "gray", "value": "yellow"}
_RGB = {
    "purple": (0.6, 0.3, 0.9),
    "red": (0.9, 0.25, 0.25),
    "green": (0.3, 0.8, 0.35),
    "blue": (0.25, 0.55, 0.95),
    "gray": (0.8, 0.8, 0.8),
    "yellow": (0.95, 0.85, 0.3),
}


@dataclass(frozen=True)
class Element:
    """One thing on a landscape page, in the content area's coordinates (below the tab bar).

    ``kind``: fader, toggle, push, xy, label (a control's name) or value (its fed-back value);
    ``axes``: for an XY pad, the screen direction in which each of its message's values grows."""

    page: int
    kind: str
    x: int
    y: int
    w: int
    h: int
    address: str = ""
    text: str = ""
    axes: tuple[str, ...] = ()


def control_kind(control: Control) -> str:
    """The widget that fits a mapped control."""
    if control.action in TOGGLES:
        return "toggle"
    if control.action is not None:
        return "push"
    return "xy" if len(control.parameters) == 2 else "fader"


def _title(control: Control) -> str:
    return control.action or " / ".join(name for name, _, _ in control.parameters)


def plan(mapping: Mapping) -> list[Element]:
    """Every mapped control with its name and value labels, flowed into rows and pages."""
    controls = sorted(mapping.controls.values(), key=lambda c: (list(_SIZES).index(control_kind(c)), c.address))
    elements: list[Element] = []
    page, x, y, row_h = 0, GAP, GAP, 0
    for control in controls:
        kind = control_kind(control)
        w, h = _SIZES[kind]
        total_h = LABEL_H + h + LABEL_H
        if x + w > PAGE_W - GAP:
            x, y, row_h = GAP, y + row_h + GAP, 0
        if y + total_h > CONTENT_H - GAP:
            page, x, y, row_h = page + 1, GAP, GAP, 0
        axes = ("right", "up") if kind == "xy" else ()
        elements.append(Element(page, "label", x, y, w, LABEL_H, "", _title(control)))
        elements.append(Element(page, kind, x, y + LABEL_H, w, h, control.address, axes=axes))
        if kind != "push":
            elements.append(Element(page, "value", x, y + LABEL_H + h, w, LABEL_H, control.label_address, "-"))
        x, row_h = x + w + GAP, max(row_h, total_h)
    return elements


def write_layout(mapping: Mapping, path: Path, replace: bool = False) -> None:
    """Write the layout TouchOSC opens: ``.tosc`` native, anything else a Mk1 ``.touchosc``; whole
    or not at all, replacing a file there only when ``replace`` (``files.written``)."""
    elements = plan(mapping)
    with written(path, replace) as working:
        if path.suffix.lower() == ".tosc":
            working.write_bytes(zlib.compress(tosc_xml(elements)))
            return
        with zipfile.ZipFile(working, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("index.xml", mk1_xml(elements))


# Mk1 ------------------------------------------------------------------------------------------

_MK1_TYPES = {"fader": "faderh", "toggle": "toggle", "push": "push", "xy": "xy", "label": "labelv", "value": "labelv"}
_PORTRAIT_W = PAGE_H
"""Mk1's portrait frame is 768 wide: the landscape page's height."""


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def mk1_xml(elements: list[Element]) -> bytes:
    """``index.xml`` of a landscape iPad layout (mode 1, orientation vertical)."""
    layout = ElementTree.Element("layout", version="17", mode="1", orientation="vertical")
    for number in range(max((e.page for e in elements), default=0) + 1):
        title = _b64(str(number + 1))
        page = ElementTree.SubElement(
            layout,
            "tabpage",
            name=title,
            scalef="0.0",
            scalet="1.0",
            li_t=title,
            li_c="gray",
            li_s="14",
            li_o="false",
            li_b="false",
            la_t=title,
            la_c="gray",
            la_s="14",
            la_o="false",
            la_b="false",
        )
        for index, element in enumerate(e for e in elements if e.page == number):
            ElementTree.SubElement(page, "control", _mk1_attributes(element, index))
    return ElementTree.tostring(layout, encoding="UTF-8", xml_declaration=True)


def _mk1_attributes(element: Element, index: int) -> dict[str, str]:
    frame = {
        "x": str(_PORTRAIT_W - TAB_BAR - (element.y + element.h)),
        "y": str(element.x),
        "w": str(element.h),
        "h": str(element.w),
    }
    kind = _MK1_TYPES[element.kind]
    common = {"name": _b64(f"{element.kind}{index}"), **frame, "color": _COLOURS[element.kind], "type": kind}
    if element.kind in ("label", "value"):
        text = {"text": _b64(element.text), "size": "14", "background": "true", "outline": "false"}
        return common | text | ({"osc_cs": _b64(element.address)} if element.address else {})
    scale = {"scalef": "0.0", "scalet": "1.0", "osc_cs": _b64(element.address)}
    extra = {
        "fader": {"response": "absolute", "inverted": "false", "centered": "false"},
        "toggle": {"local_off": "false"},
        "push": {"local_off": "false", "sp": "true", "sr": "true"},
        "xy": {"inverted_x": "false", "inverted_y": "false", "rev_xy": "true"},
    }[element.kind]
    return common | scale | extra


def _mk1_axes(control: ElementTree.Element, landscape: bool) -> tuple[str, ...]:
    """The screen direction in which each value of an Mk1 XY pad's message grows."""
    flip = {"up": "down", "down": "up", "left": "right", "right": "left"}
    x_dir, y_dir = ("up", "right") if landscape else ("right", "down")
    if control.get("inverted_x") == "true":
        x_dir = flip[x_dir]
    if control.get("inverted_y") == "true":
        y_dir = flip[y_dir]
    return (y_dir, x_dir) if control.get("rev_xy") == "true" else (x_dir, y_dir)


def _read_mk1(data: bytes) -> list[Element]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = ElementTree.fromstring(archive.read("index.xml"))
    landscape = root.get("orientation") == "vertical"
    kinds = {value: key for key, value in _MK1_TYPES.items() if key != "value"}
    kinds["faderv"] = "fader"
    kinds["labelh"] = "label"
    elements = []
    for number, page in enumerate(root.findall("tabpage")):
        for control in page.findall("control"):
            x, y, w, h = (int(float(control.get(k, "0"))) for k in ("x", "y", "w", "h"))
            if landscape:
                x, y, w, h = y, _PORTRAIT_W - TAB_BAR - x - w, h, w
            address = base64.b64decode(control.get("osc_cs", "")).decode()
            text = base64.b64decode(control.get("text", "")).decode()
            kind = kinds.get(control.get("type", ""), "label")
            kind = "value" if kind == "label" and address else kind
            axes = _mk1_axes(control, landscape) if kind == "xy" else ()
            elements.append(Element(number, kind, x, y, w, h, address, text, axes))
    return elements


# .tosc ----------------------------------------------------------------------------------------

_TOSC_TYPES = {"fader": "FADER", "toggle": "BUTTON", "push": "BUTTON", "xy": "XY", "label": "LABEL", "value": "LABEL"}
_TOSC_COLOURS = {"FADER": "purple", "XY": "blue", "LABEL": "gray", "BUTTON": "green"}
_BASE = {"background": ("b", "1"), "cornerRadius": ("f", "1"), "grabFocus": ("b", "1"), "locked": ("b", "0")}
_BASE |= {"orientation": ("i", "0"), "outline": ("b", "1"), "outlineStyle": ("i", "0")}
_BASE |= {"pointerPriority": ("i", "0"), "shape": ("i", "1"), "visible": ("b", "1")}


def tosc_xml(elements: list[Element]) -> bytes:
    """The native layout: root GROUP, a PAGER with a 40 px tab bar, one GROUP per page."""
    lexml = ElementTree.Element("lexml", version="3")
    root = _node(lexml, "GROUP", "metamorph", (0, 0, PAGE_W, PAGE_H), {"interactive": ("b", "0")})
    pager_props = {"interactive": ("b", "1"), "tabLabels": ("b", "1"), "tabbar": ("b", "1")}
    pager_props |= {"tabbarDoubleTap": ("b", "0"), "tabbarSize": ("i", str(TAB_BAR))}
    pager_props |= {"textSizeOff": ("i", "14"), "textSizeOn": ("i", "14")}
    pager = _node(_children(root), "PAGER", "pages", (0, 0, PAGE_W, PAGE_H), pager_props, {"page": "0"})
    for number in range(max((e.page for e in elements), default=0) + 1):
        props = {"interactive": ("b", "0"), "tabLabel": ("s", str(number + 1))}
        page = _node(_children(pager), "GROUP", str(number + 1), (0, TAB_BAR, PAGE_W, CONTENT_H), props)
        for index, element in enumerate(e for e in elements if e.page == number):
            _tosc_element(_children(page), element, index)
    return ElementTree.tostring(lexml, encoding="UTF-8", xml_declaration=True)


def _children(node: ElementTree.Element) -> ElementTree.Element:
    found = node.find("children")
    return found if found is not None else ElementTree.SubElement(node, "children")


def _node(
    parent: ElementTree.Element,
    kind: str,
    name: str,
    frame: tuple[int, int, int, int],
    props: dict[str, tuple[str, str]],
    values: dict[str, str] | None = None,
) -> ElementTree.Element:
    node = ElementTree.SubElement(parent, "node", ID=str(uuid.uuid4()), type=kind)
    properties = ElementTree.SubElement(node, "properties")
    everything = _BASE | props | {"name": ("s", name), "frame": ("r", ""), "color": ("c", "")}
    for key in sorted(everything):
        kind_tag, value = everything[key]
        prop = ElementTree.SubElement(properties, "property", type=kind_tag)
        ElementTree.SubElement(prop, "key").text = key
        box = ElementTree.SubElement(prop, "value")
        if key == "frame":
            for axis, number in zip("xywh", frame, strict=True):
                ElementTree.SubElement(box, axis).text = str(number)
        elif key == "color":
            for channel, level in zip("rgba", (*_RGB[_TOSC_COLOURS.get(kind, "gray")], 1.0), strict=True):
                ElementTree.SubElement(box, channel).text = f"{level:g}"
        else:
            box.text = value
    listed = ElementTree.SubElement(node, "values")
    for key, default in ({"touch": "false"} | (values or {})).items():
        entry = ElementTree.SubElement(listed, "value")
        ElementTree.SubElement(entry, "key").text = key
        for tag, text in (("locked", "0"), ("lockedDefaultCurrent", "0"), ("default", default), ("defaultPull", "0")):
            ElementTree.SubElement(entry, tag).text = text
    return node


def _tosc_element(parent: ElementTree.Element, element: Element, index: int) -> None:
    kind = _TOSC_TYPES[element.kind]
    frame = (element.x, element.y, element.w, element.h)
    props: dict[str, tuple[str, str]] = {"interactive": ("b", "0" if kind == "LABEL" else "1")}
    values: dict[str, str] = {}
    if kind == "LABEL":
        props |= {"textSize": ("i", "14"), "textAlignH": ("i", "2"), "textAlignV": ("i", "2")}
        values["text"] = element.text
    elif kind == "BUTTON":
        props |= {"buttonType": ("i", "1" if element.kind == "toggle" else "0"), "press": ("b", "1")}
        props |= {"release": ("b", "1"), "valuePosition": ("b", "0")}
        values["x"] = "0"
    elif kind == "FADER":
        props |= {"bar": ("b", "1"), "barDisplay": ("i", "0"), "centered": ("b", "0"), "response": ("i", "0")}
        values["x"] = "0"
    else:
        props |= {"lockX": ("b", "0"), "lockY": ("b", "0")}
        values |= {"x": "0.5", "y": "0.5"}
    node = _node(parent, kind, f"{element.kind}{index}", frame, props, values)
    messages = ElementTree.SubElement(node, "messages")
    if element.address:
        _osc(messages, element, values)


def _osc(messages: ElementTree.Element, element: Element, values: dict[str, str]) -> None:
    """The node's OSC message: a control sends its values (and receives feedback), a value label
    only receives text."""
    label = element.kind == "value"
    osc = ElementTree.SubElement(messages, "osc")
    for tag, text in (("enabled", "1"), ("send", "0" if label else "1"), ("receive", "1"), ("feedback", "0")):
        ElementTree.SubElement(osc, tag).text = text
    ElementTree.SubElement(osc, "connections").text = "00001"
    triggers = ElementTree.SubElement(osc, "triggers")
    sent = ["text"] if label else [key for key in ("x", "y") if key in values]
    for var in sent:
        trigger = ElementTree.SubElement(triggers, "trigger")
        ElementTree.SubElement(trigger, "var").text = var
        ElementTree.SubElement(trigger, "condition").text = "ANY"
    _partial(ElementTree.SubElement(osc, "path"), "CONSTANT", "STRING", element.address, (0, 1))
    arguments = ElementTree.SubElement(osc, "arguments")
    for var in sent:
        scale = (1, 0) if var == "y" else (0, 1)  # the pad's y grows downwards; the show's upwards
        _partial(arguments, "VALUE", "STRING" if label else "FLOAT", var, scale)


def _partial(parent: ElementTree.Element, kind: str, conversion: str, value: str, scale: tuple[int, int]) -> None:
    partial = ElementTree.SubElement(parent, "partial")
    for tag, text in (("type", kind), ("conversion", conversion), ("value", value)):
        ElementTree.SubElement(partial, tag).text = text
    ElementTree.SubElement(partial, "scaleMin").text = str(scale[0])
    ElementTree.SubElement(partial, "scaleMax").text = str(scale[1])


def _read_tosc(data: bytes) -> list[Element]:
    root = ElementTree.fromstring(zlib.decompress(data))
    pager = next(node for node in root.iter("node") if node.get("type") == "PAGER")
    kinds = {"FADER": "fader", "XY": "xy", "LABEL": "label"}
    elements = []
    for number, page in enumerate(_children(pager).findall("node")):
        for node in _children(page).findall("node"):
            props = {p.findtext("key"): p.find("value") for p in node.iter("property")}
            frame = props["frame"]
            assert frame is not None
            x, y, w, h = (int(float(frame.findtext(axis) or 0)) for axis in "xywh")
            address = "".join(p.findtext("value") or "" for p in node.iterfind("messages/osc/path/partial"))
            kind = kinds.get(node.get("type", ""), "push")
            if node.get("type") == "BUTTON":
                button_type = props["buttonType"]
                kind = "toggle" if button_type is not None and button_type.text == "1" else "push"
            kind = "value" if kind == "label" and address else kind
            text = next(
                (v.findtext("default") or "" for v in node.iterfind("values/value") if v.findtext("key") == "text"), ""
            )
            axes = _tosc_axes(node) if kind == "xy" else ()
            elements.append(Element(number, kind, x, y, w, h, address, text, axes))
    return elements


def _tosc_axes(node: ElementTree.Element) -> tuple[str, ...]:
    """Each argument's screen direction: x grows rightwards, y downwards, unless scaled from 1 to 0."""
    axes = []
    for partial in node.iterfind("messages/osc/arguments/partial"):
        growing = (partial.findtext("scaleMin") or "0") < (partial.findtext("scaleMax") or "1")
        if partial.findtext("value") == "x":
            axes.append("right" if growing else "left")
        else:
            axes.append("down" if growing else "up")
    return tuple(axes)


def read_layout(path: Path) -> list[Element]:
    """A written layout parsed back into landscape elements; one sentence when it is not one."""
    data = path.read_bytes()
    try:
        return _read_tosc(data) if path.suffix.lower() == ".tosc" else _read_mk1(data)
    except (zipfile.BadZipFile, zlib.error, ElementTree.ParseError, KeyError, StopIteration, ValueError) as error:
        raise UserError(f"{path} is not a TouchOSC layout this tool can read ({error}).") from error
