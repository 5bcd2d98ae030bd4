"""The TouchOSC layout, read back: every control sends exactly a mapped address."""

from __future__ import annotations

import base64
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from installation.cli import main
from installation.control.mapping import load_mapping


def test_layout_controls_send_the_mapped_addresses(tmp_path: Path, capsys) -> None:
    out = tmp_path / "metamorph.touchosc"
    assert main(["touchosc", "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        root = ElementTree.fromstring(archive.read("index.xml"))
    controls = root.findall("./tabpage/control")
    sent = {base64.b64decode(c.get("osc_cs")).decode(): c.get("type") for c in controls}
    mapping = load_mapping().controls
    assert set(sent) == set(mapping)
    assert sent["/1/fader1"] == "faderv" and sent["/1/xy1"] == "xy"
    assert sent["/1/toggle1"] == "toggle" and sent["/1/push1"] == "push"
    assert all(c.get("scalef") == "0.0" and c.get("scalet") == "1.0" for c in controls)
    assert main(["touchosc", "--out", str(out)]) == 2
    assert "exists; choose another --out or add --force" in capsys.readouterr().err
