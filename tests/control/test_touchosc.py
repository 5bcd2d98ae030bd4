"""TouchOSC layouts, read back from the written files and held against real TouchOSC files.

The expectations below are the structure of layouts saved by TouchOSC itself, found in public
repositories (recorded here as facts, not copied):
- Mk1 ``index.xml`` saved by TouchOSC Editor (justlep/quickedit4touchosc, docs/resources/demo/
  demo.xml, a landscape ``orientation="vertical"`` layout): toggles carry name x y w h color
  scalef scalet type local_off; faders add response inverted centered, and the faders standing
  upright on its landscape screen are stored as ``faderh``; every control lies in the portrait
  frame short of the last 40 px of x (the tab bar). The v17 attributes the Editor adds (sp/sr
  on push buttons, li_*/la_* on pages, labels' text size background outline) follow
  sciurius/perl-TouchOSC, which reads and writes Editor files, and rotates landscape
  coordinates as x' = W - 40 - y - h, y' = x.
- ``.tosc`` saved by TouchOSC (mrobinson513/touchosc-xml, test/GenMDMv2_official.xml): a root
  GROUP, a PAGER with ``tabbarSize`` 40, page GROUPs framed at y = 40; every node has the same
  core properties with the same type tags, frames as x/y/w/h and colours as r/g/b/a.
"""

from __future__ import annotations

import base64
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image

from installation.cli import main
from installation.control.mapping import load_mapping
from installation.control.touchosc import CONTENT_H, PAGE_W, TAB_BAR, control_kind, plan, read_layout, write_layout
from installation.errors import UserError

MK1_ATTRIBUTES = {
    "toggle": {"name", "x", "y", "w", "h", "color", "scalef", "scalet", "type", "local_off", "osc_cs"},
    "faderh": {
        "name",
        "x",
        "y",
        "w",
        "h",
        "color",
        "scalef",
        "scalet",
        "type",
        "response",
        "inverted",
        "centered",
        "osc_cs",
    },
    "push": {"name", "x", "y", "w", "h", "color", "scalef", "scalet", "type", "local_off", "sp", "sr", "osc_cs"},
    "xy": {
        "name",
        "x",
        "y",
        "w",
        "h",
        "color",
        "scalef",
        "scalet",
        "type",
        "inverted_x",
        "inverted_y",
        "rev_xy",
        "osc_cs",
    },
    "labelv": {"name", "x", "y", "w", "h", "color", "type", "text", "size", "background", "outline", "osc_cs"},
}
MK1_PAGE = {"name", "scalef", "scalet"} | {f"{p}_{k}" for p in ("li", "la") for k in "tcsob"}
TOSC_CORE = {
    "background": "b",
    "color": "c",
    "cornerRadius": "f",
    "frame": "r",
    "grabFocus": "b",
    "interactive": "b",
    "locked": "b",
    "name": "s",
    "orientation": "i",
    "outline": "b",
    "outlineStyle": "i",
    "pointerPriority": "i",
    "shape": "i",
    "visible": "b",
}
TOSC_PAGER = {"tabLabels": "b", "tabbar": "b", "tabbarDoubleTap": "b", "tabbarSize": "i", "textSizeOff": "i"}


def big_map(tmp_path: Path, faders: int) -> Path:
    path = tmp_path / "big.toml"
    names = ["speed", "hue", "diffusion", "size", "saturation", "brightness", "hold", "duration"]
    rows = [f'[controls."/f/{i}"]\nparameter = "{names[i % len(names)]}"\n' for i in range(faders)]
    rows += ['[controls."/p"]\naction = "pause"\n', '[controls."/xy"]\nparameters = ["hue", "saturation"]\n']
    path.write_text("\n".join(rows))
    return path


@pytest.mark.parametrize("suffix", [".touchosc", ".tosc"])
@pytest.mark.parametrize("faders", [5, 60])
def test_every_control_on_the_page_labelled_and_sent_once(tmp_path: Path, suffix: str, faders: int) -> None:
    mapping = load_mapping(big_map(tmp_path, faders))
    out = tmp_path / f"layout{suffix}"
    write_layout(mapping, out)
    elements = read_layout(out)
    controls = [e for e in elements if e.kind not in ("label", "value")]
    assert sorted(e.address for e in controls) == sorted(mapping.controls)  # each address by exactly one control
    for element in elements:
        assert 0 <= element.x and element.x + element.w <= PAGE_W, element
        assert 0 <= element.y and element.y + element.h <= CONTENT_H, element
    for page in {e.page for e in elements}:
        boxes = [e for e in elements if e.page == page]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y, (a, b)
    names = {(e.page, e.x, e.y + e.h): e.text for e in elements if e.kind == "label"}
    values = {e.address for e in elements if e.kind == "value"}
    for control in controls:
        title = mapping.controls[control.address].action or " / ".join(
            n for n, _, _ in mapping.controls[control.address].parameters
        )
        assert names[(control.page, control.x, control.y)] == title  # the name right above it
        assert (control.kind == "push") or control.address + "/value" in values
    assert [e.axes for e in controls if e.kind == "xy"] == [("right", "up")]
    assert max(e.page for e in elements) == (0 if faders == 5 else 3)


def test_mk1_file_has_the_editors_structure(tmp_path: Path) -> None:
    out = tmp_path / "metamorph.touchosc"
    assert main(["touchosc", "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        root = ElementTree.fromstring(archive.read("index.xml"))
    assert root.attrib == {"version": "17", "mode": "1", "orientation": "vertical"}
    for page in root.findall("tabpage"):
        assert set(page.attrib) == MK1_PAGE
        for control in page.findall("control"):
            assert set(control.attrib) <= MK1_ATTRIBUTES[control.get("type")], control.attrib
            assert {"name", "x", "y", "w", "h", "type"} <= set(control.attrib)
            x, y, w, h = (int(control.get(k)) for k in "xywh")
            assert 0 <= x and x + w <= 768 - TAB_BAR and 0 <= y and y + h <= 1024  # portrait frame, tab bar free
    faders = [c for c in root.iter("control") if c.get("type") == "faderh"]
    assert len(faders) == 5 and all(int(c.get("w")) > int(c.get("h")) for c in faders)  # upright on screen
    sent = {base64.b64decode(c.get("osc_cs")).decode() for c in root.iter("control") if c.get("type") != "labelv"}
    assert sent == set(load_mapping().controls)
    assert main(["touchosc", "--out", str(out)]) == 2


def test_tosc_file_has_touchoscs_structure(tmp_path: Path) -> None:
    out = tmp_path / "metamorph.tosc"
    assert main(["touchosc", "--out", str(out)]) == 0
    root = ElementTree.fromstring(zlib.decompress(out.read_bytes()))
    assert root.tag == "lexml" and root.get("version") == "3"
    group = root.find("node")
    assert group is not None and group.get("type") == "GROUP"
    pager = group.find("children/node")
    assert pager is not None and pager.get("type") == "PAGER"
    for node in root.iter("node"):
        props = {p.findtext("key"): p.get("type") for p in node.find("properties")}
        assert {k: props.get(k) for k in TOSC_CORE} == TOSC_CORE, node.get("type")
        frame = next(p.find("value") for p in node.find("properties") if p.findtext("key") == "frame")
        assert [child.tag for child in frame] == ["x", "y", "w", "h"]
    pager_props = {p.findtext("key"): (p.get("type"), p.findtext("value")) for p in pager.find("properties")}
    assert {k: pager_props[k][0] for k in TOSC_PAGER} == TOSC_PAGER and pager_props["tabbarSize"][1] == str(TAB_BAR)
    page = pager.find("children/node")
    frame = next(p.find("value") for p in page.find("properties") if p.findtext("key") == "frame")
    assert [int(frame.findtext(a)) for a in "xywh"] == [0, TAB_BAR, PAGE_W, CONTENT_H]
    kinds = {node.get("type") for node in page.iter("node")}
    assert kinds == {"GROUP", "FADER", "BUTTON", "XY", "LABEL"}


def test_preview_draws_the_file(tmp_path: Path) -> None:
    out, picture = tmp_path / "big.tosc", tmp_path / "big.png"
    assert (
        main(["touchosc", "--out", str(out), "--osc-map", str(big_map(tmp_path, 60)), "--preview", str(picture)]) == 0
    )
    image = Image.open(picture).convert("RGB")
    elements = read_layout(out)
    assert image.size == (PAGE_W, 768 * (max(e.page for e in elements) + 1))
    for element in elements:
        if element.kind in ("fader", "xy", "toggle"):
            centre = (element.x + element.w // 2, element.page * 768 + TAB_BAR + element.y + element.h - 4)
            assert (
                image.getpixel(centre)
                == {"fader": (120, 70, 190), "xy": (60, 120, 210), "toggle": (200, 60, 60)}[element.kind]
            )


def test_plan_matches_what_is_read_back(tmp_path: Path) -> None:
    mapping = load_mapping()
    for suffix in (".tosc", ".touchosc"):
        write_layout(mapping, tmp_path / f"l{suffix}")
        assert read_layout(tmp_path / f"l{suffix}") == plan(mapping)
    assert {control_kind(c) for c in mapping.controls.values()} == {"fader", "toggle", "push", "xy"}


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04garbage", zlib.compress(b"<lexml/>"), b"\x00" * 5000])
def test_absurd_files_are_one_sentence(tmp_path: Path, content: bytes) -> None:
    for suffix in (".tosc", ".touchosc"):
        path = tmp_path / f"bad{suffix}"
        path.write_bytes(content)
        with pytest.raises(UserError, match="is not a TouchOSC layout"):
            read_layout(path)
    assert main(["touchosc", "--out", str(tmp_path / "layout.txt")]) == 2
