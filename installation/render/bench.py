"""The renderer's benchmark: frame times for sphere counts and resolutions, against the common way.

Three draws of one frame mid-transition are timed in alternating rounds: ours with the full
default look (the backdrop behind spheres of size 1.5), ours with the same spheres bare (no
backdrop), and the common way (the reference: the same Brownian-bridge positions computed in
numpy, positions and colours uploaded every frame). Every figure of a table comes from one run
on one machine, so the ratios hold even where the absolute times are noisy. ``markdown`` writes
the README's speed table; ``passes`` times each pass of the renderer on its own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from OpenGL import GL

from installation.curves import smoothstep
from installation.keyframes.sequence import KeyframeSequence
from installation.paths import shaders_dir
from installation.render.framebuffer import Framebuffer
from installation.render.program import ShaderProgram
from installation.render.renderer import Renderer
from installation.render.window import PygameWindow
from installation.scene.parameters import ParameterValues
from installation.scene.show import FrameState, transition_frame
from installation.scene.stage import Stage, prepare_stage

RESOLUTIONS = ((1920, 1080), (3840, 2160))
COUNTS = (10_000, 100_000, 1_000_000)


@dataclass(frozen=True)
class Measurement:
    resolution: tuple[int, int]
    spheres: int
    frame_ms: float
    """Ours, the full default look."""
    python_us: float
    reference_ms: float
    reference_python_us: float
    bare_ms: float = 0.0
    """Ours, the same spheres without the backdrop."""

    @property
    def ratio(self) -> float:
        """The common way over ours, both bare: what drawing the motion on the GPU saves."""
        return self.reference_ms / (self.bare_ms or self.frame_ms)

    @property
    def look(self) -> float:
        """The full look over the bare spheres: what the look costs."""
        return self.frame_ms / self.bare_ms if self.bare_ms else 1.0


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
) -> tuple[list[Measurement], str]:
    """Time ours (full look and bare) and the reference at every resolution and sphere count,
    mid-transition; with the machine's caption (``machine_caption``)."""
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
        return results, machine_caption()
    finally:
        window.close()


def _measure_one(sequence, resolution, count, target, reference_program, budget_s) -> Measurement:
    aspect = resolution[0] / resolution[1]
    stage = prepare_stage(sequence, grid_of(count, aspect)[0])
    renderer = Renderer(shaders_dir())
    state = transition_frame(stage, 0, 1, 0.5)
    bare = transition_frame(stage, 0, 1, 0.5, replace(state.values, backdrop=0.0))
    target.bind()

    def ours() -> None:
        renderer.draw(state, resolution)

    def ours_bare() -> None:
        renderer.draw(bare, resolution)

    reference = ReferenceField(stage, reference_program)
    values = state.values

    def common_way() -> None:
        GL.glViewport(0, 0, *resolution)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        reference.draw(state.blend.motion, values.diffusion, resolution[1], values.size)

    frame, bare_frame, reference_frame = _frame_times([ours, ours_bare, common_way], budget_s)
    return Measurement(
        resolution,
        renderer.field.count if renderer.field else 0,
        frame * 1e3,
        _python_time(ours, renderer.field) * 1e6,
        reference_frame * 1e3,
        _python_time(common_way, reference) * 1e6,
        bare_frame * 1e3,
    )


def table(results: list[Measurement]) -> str:
    """The measurements as an aligned text table, with the ratio of every row of ``markdown``'s."""
    lines = [
        f"{'resolution':>11} {'spheres':>9} {'full ms':>8} {'bare ms':>8} {'full/bare':>9} {'fps':>6} "
        f"{'python us':>10} {'reference ms':>13} {'ref python us':>14} {'reference/bare':>15}"
    ]
    for m in results:
        lines.append(
            f"{m.resolution[0]}x{m.resolution[1]:<5} {m.spheres:>9,} {m.frame_ms:>8.2f} {m.bare_ms:>8.2f} "
            f"{m.look:>9.2f} {1e3 / m.frame_ms:>6.1f} {m.python_us:>10.1f} {m.reference_ms:>13.2f} "
            f"{m.reference_python_us:>14.0f} {m.ratio:>15.2f}"
        )
    return "\n".join(lines)


MARKDOWN_START = "<!-- the speed table: written by `metamorph bench --markdown`; do not edit by hand -->"
MARKDOWN_END = "<!-- end of the speed table -->"


def markdown(results: list[Measurement], machine: str) -> str:
    """The README's speed table: one column per sphere count, rows per resolution, a caption
    naming the machine, the GL renderer and the date (``machine``)."""
    counts = sorted({m.spheres for m in results})
    resolutions = sorted({m.resolution for m in results})
    at = {(m.resolution, m.spheres): m for m in results}
    header = "| | " + " | ".join(_count(count) for count in counts) + " |"
    lines = [MARKDOWN_START, f"*{machine}*", "", header, "| --- |" + " --- |" * len(counts)]

    def row(label: str, cell: Callable[[Measurement], str], resolution: tuple[int, int]) -> str:
        cells = [cell(at[resolution, count]) if (resolution, count) in at else "" for count in counts]
        return f"| {label} | " + " | ".join(cells) + " |"

    for resolution in resolutions:
        size = f"{resolution[0]}x{resolution[1]}"
        lines.append(
            row(
                f"frame at {size}, the full look",
                lambda m: f"{m.frame_ms:.1f} ms ({1e3 / m.frame_ms:.0f} fps)",
                resolution,
            )
        )
        lines.append(row(f"frame at {size}, bare spheres", lambda m: f"{m.bare_ms:.1f} ms", resolution))
        lines.append(row(f"the full look / bare spheres, {size}", lambda m: f"{m.look:.2f}", resolution))
        lines.append(row(f"the common way / ours, bare, {size}", lambda m: f"{m.ratio:.2f}", resolution))
    first = resolutions[0]
    lines.append(
        row(
            "Python time of a frame (ours; the common way)",
            lambda m: f"{m.python_us:.0f} us; {m.reference_python_us / 1e3:.1f} ms",
            first,
        )
    )
    lines.append(MARKDOWN_END)
    return "\n".join(lines)


def _count(count: int) -> str:
    """A sphere count as asked for (the grid rounds it: 9,975 of a 133x75 grid is 10k)."""
    rounded = float(f"{count:.1g}")
    return f"{rounded / 1e6:g}M spheres" if rounded >= 1e6 else f"{rounded / 1e3:g}k spheres"


def machine_caption() -> str:
    """The machine, the GL renderer and the date, for a table's caption (a GL context is current)."""
    import datetime
    import os
    import platform

    renderer = GL.glGetString(GL.GL_RENDERER).decode(errors="replace")
    return (
        f"Measured by `metamorph bench --markdown` on {platform.machine()} with {os.cpu_count()} CPUs, "
        f"{renderer}, {datetime.date.today().isoformat()}."
    )


@dataclass(frozen=True)
class PassTime:
    look: str
    name: str
    milliseconds: float
    """By the clock, the GPU finished before and after the pass."""
    query_milliseconds: float
    """By GL's timer query (GL_TIME_ELAPSED) around the pass."""


def passes(
    sequence: KeyframeSequence, resolution: tuple[int, int] = (1920, 1080), count: int = 10_000
) -> list[PassTime]:
    """Each pass of a frame mid-transition timed on its own, for the default look and for each
    post pass on: by the clock with the GPU finished before and after each, and by GL's timer
    query (on a software renderer that counts only the submission: it draws at the finish)."""
    window = PygameWindow((64, 64), vsync=False, hidden=True)
    try:
        stage = prepare_stage(sequence, grid_of(count, resolution[0] / resolution[1])[0])
        renderer = Renderer(shaders_dir())
        target = Framebuffer(resolution)
        looks = {"default": {}, "glow": {"glow": 1.0}, "trails": {"trails": 0.8}, "depth of field": {"defocus": 1.0}}
        found: list[PassTime] = []
        for look, change in looks.items():
            state = transition_frame(stage, 0, 1, 0.5, ParameterValues(**change))
            found += _timed_passes(renderer, target, state, look)
        target.delete()
        return found
    finally:
        window.close()


def _timed_passes(renderer: Renderer, target: Framebuffer, state: FrameState, look: str) -> list[PassTime]:
    """The median times of each pass over 7 frames of ``state``, the first two left out (warm-up)."""
    times: dict[str, list[tuple[float, float]]] = {}
    renderer.timing = lambda name, clock, query: times.setdefault(name, []).append((clock, query))
    for _ in range(7):
        target.bind()
        renderer.draw(state, target.size)
    renderer.timing = None
    return [
        PassTime(look, name, *(float(np.median(column)) * 1e3 for column in zip(*spent[2:], strict=True)))
        for name, spent in times.items()
    ]


def passes_table(found: list[PassTime]) -> str:
    lines = [f"{'look':>15} {'pass':>10} {'clock ms':>9} {'query ms':>9}"]
    lines += [f"{p.look:>15} {p.name:>10} {p.milliseconds:>9.2f} {p.query_milliseconds:>9.2f}" for p in found]
    return "\n".join(lines)
