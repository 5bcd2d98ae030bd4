"""The renderer's benchmark: frame times for sphere counts and resolutions, against the common way.

The common way (the reference) computes the same Brownian-bridge positions in numpy and uploads
positions and colours every frame. Every figure of a table comes from one run on one machine,
so the ratios hold even where the absolute times are noisy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from OpenGL import GL

from installation.curves import smoothstep
from installation.keyframes.sequence import KeyframeSequence
from installation.paths import shaders_dir
from installation.render.framebuffer import Framebuffer
from installation.render.program import ShaderProgram
from installation.render.renderer import Renderer
from installation.render.window import PygameWindow
from installation.scene.show import transition_frame
from installation.scene.stage import Stage, prepare_stage

RESOLUTIONS = ((1920, 1080), (3840, 2160))
COUNTS = (10_000, 100_000, 1_000_000)


@dataclass(frozen=True)
class Measurement:
    resolution: tuple[int, int]
    spheres: int
    frame_ms: float
    python_us: float
    reference_ms: float
    reference_python_us: float

    @property
    def ratio(self) -> float:
        return self.reference_ms / self.frame_ms


def grid_of(count: int, aspect: float) -> tuple[int, int]:
    columns = max(1, round(math.sqrt(count * aspect)))
    return columns, max(1, round(count / columns))


def _frame_times(draws: list[Callable[[], None]], budget_s: float) -> list[float]:
    """Median seconds per finished frame of each draw, measured in alternating rounds.

    Alternating keeps both sides of a ratio under the same load on a shared, noisy machine.
    """
    for draw in draws:
        draw()
    GL.glFinish()
    samples: list[list[float]] = [[] for _ in draws]
    start = time.perf_counter()
    while len(samples[0]) < 3 or time.perf_counter() - start < budget_s * len(draws):
        for draw, times in zip(draws, samples, strict=True):
            begin = time.perf_counter()
            draw()
            GL.glFinish()
            times.append(time.perf_counter() - begin)
    return [float(np.median(times)) for times in samples]


def _python_time(draw: Callable[[], None], field) -> float:
    """Median seconds of a frame's own CPU work: the same calls with no sphere to process."""
    count, field.count = field.count, 0
    try:
        times = []
        for _ in range(50):
            begin = time.perf_counter()
            draw()
            times.append(time.perf_counter() - begin)
        GL.glFinish()
        return float(np.median(times))
    finally:
        field.count = count


class ReferenceField:
    """The same motion computed in numpy and uploaded every frame."""

    def __init__(self, stage: Stage, program: ShaderProgram) -> None:
        columns, rows = stage.grid
        self.program, self.count, self.aspect, self.rows = program, columns * rows, columns / rows, rows
        u = (np.arange(columns) + 0.5) / columns
        v = (np.arange(rows) + 0.5) / rows
        uu, vv = (a.ravel() for a in np.meshgrid(u, v))
        self.start = np.stack([(uu * 2 - 1) * self.aspect, 1 - vv * 2, np.zeros_like(uu)], -1).astype(np.float32)
        self.end = self.start[stage.destinations(0, 1)]
        terms = 12
        self.normals = np.random.default_rng(0).standard_normal((terms, self.count, 3)).astype(np.float32)
        self.colours_a = stage.cells[0].reshape(-1, 3).astype(np.float32) / 255
        self.colours_b = stage.cells[1].reshape(-1, 3).astype(np.float32)[stage.destinations(0, 1)] / 255
        self.vao = GL.glGenVertexArrays(1)
        self.buffers = GL.glGenBuffers(2)
        GL.glBindVertexArray(self.vao)
        for location, buffer in enumerate(self.buffers):
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, buffer)
            GL.glBufferData(GL.GL_ARRAY_BUFFER, self.count * 12, None, GL.GL_STREAM_DRAW)
            GL.glEnableVertexAttribArray(location)
            GL.glVertexAttribPointer(location, 3, GL.GL_FLOAT, GL.GL_FALSE, 0, None)

    def draw(self, motion: float, sigma: float, height_px: int, size: float) -> None:
        eased = smoothstep(motion)
        k = np.arange(1, len(self.normals) + 1, dtype=np.float32)
        weights = np.sqrt(2) * np.sin(k * np.pi * motion) / (k * np.pi)
        positions = self.start + (self.end - self.start) * eased
        positions += sigma * np.tensordot(weights, self.normals, axes=1)
        colours = self.colours_a + (self.colours_b - self.colours_a) * eased
        GL.glBindVertexArray(self.vao)
        for buffer, data in zip(self.buffers, (positions, colours), strict=True):
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, buffer)
            GL.glBufferData(GL.GL_ARRAY_BUFFER, data.nbytes, np.ascontiguousarray(data, np.float32), GL.GL_STREAM_DRAW)
        self.program.use()
        self.program.set_float("aspect", self.aspect)
        self.program.set_float("point_size", size * height_px / self.rows)
        GL.glEnable(GL.GL_PROGRAM_POINT_SIZE)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDrawArrays(GL.GL_POINTS, 0, self.count)
        GL.glDisable(GL.GL_DEPTH_TEST)


def measure(
    sequence: KeyframeSequence,
    resolutions=RESOLUTIONS,
    counts=COUNTS,
    budget_s: float = 1.0,
) -> list[Measurement]:
    """Time ours and the reference at every resolution and sphere count, mid-transition."""
    window = PygameWindow((64, 64), vsync=False, hidden=True)
    try:
        folder = shaders_dir()
        reference_program = ShaderProgram(folder, "reference.vert", "spheres.frag")
        results = []
        for resolution in resolutions:
            target = Framebuffer(resolution)
            for count in counts:
                results.append(_measure_one(sequence, resolution, count, target, reference_program, budget_s))
            target.delete()
        return results
    finally:
        window.close()


def _measure_one(sequence, resolution, count, target, reference_program, budget_s) -> Measurement:
    aspect = resolution[0] / resolution[1]
    stage = prepare_stage(sequence, grid_of(count, aspect)[0])
    renderer = Renderer(shaders_dir())
    state = transition_frame(stage, 0, 1, 0.5)
    target.bind()

    def ours() -> None:
        renderer.draw(state, resolution)

    reference = ReferenceField(stage, reference_program)
    values = state.values

    def common_way() -> None:
        GL.glViewport(0, 0, *resolution)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        reference.draw(state.blend.motion, values.diffusion, resolution[1], values.size)

    frame, reference_frame = _frame_times([ours, common_way], budget_s)
    return Measurement(
        resolution,
        renderer.field.count if renderer.field else 0,
        frame * 1e3,
        _python_time(ours, renderer.field) * 1e6,
        reference_frame * 1e3,
        _python_time(common_way, reference) * 1e6,
    )


def table(results: list[Measurement]) -> str:
    """The measurements as an aligned text table."""
    lines = [
        f"{'resolution':>11} {'spheres':>9} {'frame ms':>9} {'fps':>6} {'python us':>10} "
        f"{'reference ms':>13} {'ref python us':>14} {'reference/ours':>15}"
    ]
    for m in results:
        lines.append(
            f"{m.resolution[0]}x{m.resolution[1]:<5} {m.spheres:>9,} {m.frame_ms:>9.2f} {1e3 / m.frame_ms:>6.1f} "
            f"{m.python_us:>10.1f} {m.reference_ms:>13.2f} {m.reference_python_us:>14.0f} {m.ratio:>15.2f}"
        )
    return "\n".join(lines)
