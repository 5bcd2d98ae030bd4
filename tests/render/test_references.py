"""Example scenes rendered on the software GPU and compared with stored screenshots.

After an intended change of the look, rewrite the references with
``METAMORPH_UPDATE_REFERENCES=1 bash scripts/test tests/render/test_references.py`` and look at
them (tests/render/references/) before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.keyframes.demo import alpine_scene
from installation.keyframes.images import to_uint8
from installation.scene.presets import shipped_presets
from installation.scene.show import Show
from installation.scene.stage import prepare_stage
from installation.scene.transport import Transport
from tests.helpers import sequence_of
from tests.render.conftest import SIZE, make_renderer

REFERENCES = Path(__file__).parent / "references"
SCENES = {
    "rest": (Transport.GRID, None, {}),
    "dissolving": (Transport.GRID, 0.1, {}),
    "diffusing": (Transport.GRID, 0.5, {"diffusion": 0.3}),
    "colour-transport": (Transport.COLOR, 0.5, {"diffusion": 0.1, "size": 1.2}),
    "graded": (Transport.COLOR, 0.3, {"hue": 60.0, "saturation": 1.6, "brightness": 1.2}),
    **{f"preset-{name}": (Transport.COLOR, 0.45, preset.values) for name, preset in shipped_presets().items()},
}


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    scene = to_uint8(alpine_scene(*SIZE))
    return [scene, np.ascontiguousarray(np.roll(scene[:, ::-1], 20, axis=0))]


@pytest.mark.parametrize("name", sorted(SCENES))
def test_scene_matches_its_reference(gl_window, draw, frames, name: str, tmp_path: Path) -> None:
    transport, progress, parameters = SCENES[name]
    show = Show(prepare_stage(sequence_of(frames), 40, transport))
    for key, value in parameters.items():
        show.parameters.set(key, value, immediate=True)
    picture = draw(make_renderer(show), progress)
    path = REFERENCES / f"{name}.png"
    if os.environ.get("METAMORPH_UPDATE_REFERENCES"):
        REFERENCES.mkdir(exist_ok=True)
        Image.fromarray(picture).save(path)
    assert path.exists(), f"{path} is missing; write it with METAMORPH_UPDATE_REFERENCES=1"
    reference = np.asarray(Image.open(path).convert("RGB")).astype(int)
    difference = np.abs(picture.astype(int) - reference)
    if difference.mean() >= 2.0 or (difference.max(axis=-1) > 48).mean() >= 0.01:
        failed = tmp_path / f"{name}-drawn.png"
        Image.fromarray(picture).save(failed)
        Image.fromarray(np.clip(difference * 4, 0, 255).astype(np.uint8)).save(tmp_path / f"{name}-difference.png")
        pytest.fail(f"{name} differs from {path}: drawn and difference (x4) written to {tmp_path}")
