"""Reading a prompt and stylising a picture with what was read."""

import numpy as np

from installation.keyframes.style import Style, read_prompt, stylize


def test_source_piece_prompt_reads_palette_and_waves() -> None:
    style = read_prompt("Artistic wavy version with subtle pink and violet tones")
    assert style.palette == ("pink", "violet")
    assert style.wavy and not style.cubist
    assert style.chroma == 0.6
    assert style.words() == ["pink", "violet", "wavy"]


def test_phrases_case_and_punctuation() -> None:
    style = read_prompt("Swiss Matterhorn in a CUBIST artwork style, black-and-white!")
    assert style.cubist and style.mono
    assert style.palette == ()


def test_unknown_words_give_the_plain_style() -> None:
    assert read_prompt("a quiet morning") == Style()


def stripes(width: int = 160, height: int = 96) -> np.ndarray:
    rows = (np.arange(height) // 8) % 2
    return np.repeat(np.repeat(rows[:, None, None], width, axis=1), 3, axis=2).astype(np.float32) * 0.8 + 0.1


def row_variation(pixels: np.ndarray) -> float:
    """How much each row changes along x: zero for straight horizontal stripes."""
    return float(pixels.mean(axis=-1).std(axis=1).mean())


def test_wavy_bends_straight_lines() -> None:
    photo = stripes()
    straight = stylize(photo, read_prompt("pink"), seed=1)
    wavy = stylize(photo, read_prompt("wavy pink"), seed=1)
    assert row_variation(straight) < 0.01
    assert row_variation(wavy) > 0.05


def test_mono_removes_colour_and_cubist_makes_flat_planes() -> None:
    rng = np.random.default_rng(4)
    photo = rng.uniform(0, 1, (96, 160, 3)).astype(np.float32)
    mono = stylize(photo, read_prompt("monochrome"), seed=1)
    assert float(np.abs(mono - mono.mean(-1, keepdims=True)).max()) < 0.02
    cubist = stylize(photo, read_prompt("cubist"), seed=1)
    horizontal_change = lambda p: float(np.abs(np.diff(p, axis=1)).mean())  # noqa: E731
    assert horizontal_change(cubist) < 0.4 * horizontal_change(photo)
