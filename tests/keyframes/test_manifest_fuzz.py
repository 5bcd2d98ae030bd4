"""Whatever a manifest holds, loading its folder ends in a sequence or in one sentence, never a traceback."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installation.errors import UserError
from installation.keyframes.sequence import MANIFEST, load_sequence, save_sequence
from tests.keyframes.test_sequence import make_frames, make_manifest

FIELDS = list(json.loads(make_manifest().to_json()))
FRAME_FIELDS = ["file", "kind", "step", "timestep"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
names = st.text() | st.sampled_from(
    ["000.png", "..", "a/b.png", "x" * 300 + ".png", "\udc80.png", ".hidden.png", "001.PNG"]
)


@st.composite
def manifests(draw: st.DrawFn) -> Any:
    """A valid manifest with a few of its fields, or its frames' fields, replaced, removed or added."""
    data = json.loads(make_manifest().to_json())
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["replace", "remove", "add", "frame", "frame name"]))
        if action == "replace":
            data[draw(st.sampled_from(FIELDS))] = draw(json_values)
        elif action == "remove":
            data.pop(draw(st.sampled_from(FIELDS)), None)
        elif action == "add":
            data[draw(st.text(max_size=10))] = draw(json_values)
        elif isinstance(data.get("frames"), list) and data["frames"]:
            index = draw(st.integers(0, len(data["frames"]) - 1))
            entry = data["frames"][index]
            if action == "frame name" and isinstance(entry, dict):
                entry["file"] = draw(names)
            elif isinstance(entry, dict) and draw(st.booleans()):
                entry[draw(st.sampled_from(FRAME_FIELDS))] = draw(json_values)
            else:
                data["frames"][index] = draw(json_values)
    return data


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / "seq"
        save_sequence(path, make_manifest(), make_frames())
        yield path


def loads_or_says_why(folder: Path) -> None:
    """Load, accepting only success or a one-line sentence that names the folder."""
    try:
        load_sequence(folder)
    except UserError as error:
        message = str(error)
        assert "\n" not in message and message.endswith(".") and len(message) < 600, message
        assert str(folder) in message, message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=manifests())
def test_any_change_to_a_manifest_loads_or_is_one_sentence(folder: Path, data: Any) -> None:
    (folder / MANIFEST).write_text(json.dumps(data))
    loads_or_says_why(folder)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200) | json_values.map(json.dumps).map(str.encode))
def test_any_manifest_bytes_load_or_are_one_sentence(folder: Path, content: bytes) -> None:
    (folder / MANIFEST).write_bytes(content)
    loads_or_says_why(folder)
