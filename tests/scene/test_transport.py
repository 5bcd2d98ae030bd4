"""Where spheres go: their own cell, or a cell of their colour."""

import numpy as np

from installation.scene.cells import cell_colours, grid_for
from installation.scene.transport import Transport, destinations

RED, BLUE = (220, 30, 40), (30, 60, 220)


def halves(left, right, grid=(16, 8)) -> np.ndarray:
    colours = np.empty((grid[1], grid[0], 3), np.uint8)
    colours[:, : grid[0] // 2] = left
    colours[:, grid[0] // 2 :] = right
    return colours


def test_grid_transport_keeps_every_sphere_home() -> None:
    a, b = halves(RED, BLUE), halves(BLUE, RED)
    np.testing.assert_array_equal(destinations(Transport.GRID, a, b), np.arange(128))


def test_colour_transport_sends_red_to_red() -> None:
    a, b = halves(RED, BLUE), halves(BLUE, RED)
    ends = destinations(Transport.COLOR, a, b)
    assert sorted(ends) == list(range(128))  # a permutation: every cell gets one sphere
    np.testing.assert_array_equal(b.reshape(-1, 3)[ends], a.reshape(-1, 3))
    columns = np.arange(128) % 16
    assert (columns[ends][columns < 8] >= 8).all()  # the red left half crosses to the right


def test_colour_transport_keeps_neighbours_together_on_a_gradient() -> None:
    ramp = np.repeat(np.linspace(0, 255, 32, dtype=np.uint8)[None, :, None], 16, axis=0).repeat(3, axis=2)
    ends = destinations(Transport.COLOR, ramp, ramp[:, ::-1])
    colours = ramp.reshape(-1, 3)[:, 0].astype(int)
    assert np.abs(ramp[:, ::-1].reshape(-1, 3)[ends, 0].astype(int) - colours).max() <= 24


def test_grid_follows_the_aspect_and_cells_average() -> None:
    assert grid_for((1920, 1080)) == (160, 90)
    assert grid_for((100, 400), 50) == (50, 200)
    frame = np.zeros((4, 4, 3), np.uint8)
    frame[:, :2] = 200
    np.testing.assert_array_equal(cell_colours(frame, (2, 1))[0, :, 0], [200, 0])
