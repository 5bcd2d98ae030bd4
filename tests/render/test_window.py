"""The pygame window under the offscreen driver: memory stays flat, close is quick, SIGTERM is not taken.

Each case runs in a fresh interpreter: resident memory and SDL's signal handlers belong to a process,
and a second SDL video start in the test process would not show what a first one does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The window draws through its own swap(): points whose vertices are uploaded anew every frame, as
# the renderer does with the spheres. Without a flush the offscreen (pbuffer) driver keeps every
# frame's upload queued: about 0.6 MB a frame here before the fix (450 MB in 400 frames).
FRAMES_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import pygame
    from OpenGL import GL
    from installation.render.window import PygameWindow

    def resident_mb():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4096 / 1e6

    frames = int(sys.argv[1])
    window = PygameWindow((320, 180), vsync=False)
    vertex = "#version 330 core\\nlayout(location=0) in vec2 p; void main() { gl_Position = vec4(p, 0, 1); gl_PointSize = 3.0; }"
    fragment = "#version 330 core\\nout vec4 colour; void main() { colour = vec4(1.0, 0.5, 0.2, 1.0); }"
    program = GL.glCreateProgram()
    for kind, source in ((GL.GL_VERTEX_SHADER, vertex), (GL.GL_FRAGMENT_SHADER, fragment)):
        shader = GL.glCreateShader(kind)
        GL.glShaderSource(shader, source)
        GL.glCompileShader(shader)
        GL.glAttachShader(program, shader)
    GL.glLinkProgram(program)
    GL.glUseProgram(program)
    GL.glBindVertexArray(GL.glGenVertexArrays(1))
    GL.glBindBuffer(GL.GL_ARRAY_BUFFER, GL.glGenBuffers(1))
    GL.glEnableVertexAttribArray(0)
    GL.glVertexAttribPointer(0, 2, GL.GL_FLOAT, False, 0, None)
    GL.glEnable(GL.GL_PROGRAM_POINT_SIZE)
    points = np.random.default_rng(0).uniform(-1, 1, (30_000, 2)).astype(np.float32)
    samples = []
    for frame in range(frames):
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        moved = points + np.float32(frame * 1e-4)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, moved.nbytes, moved, GL.GL_STREAM_DRAW)
        GL.glDrawArrays(GL.GL_POINTS, 0, len(points))
        window.swap()
        samples.append(resident_mb())
    driver = pygame.display.get_driver()
    start = time.perf_counter()
    window.close()
    print(json.dumps({"driver": driver, "mb": samples, "close_s": time.perf_counter() - start}))
    """
)

# Opens the window, then says it is ready and draws until a signal ends it (or 20 s pass).
SIGNAL_SCRIPT = textwrap.dedent(
    """
    import signal, sys, time
    import pygame
    from installation.render.window import PygameWindow

    mode = sys.argv[1]
    if mode == "pygame-init-first":
        pygame.init()  # SDL's events start before the window can give its hint
    window = PygameWindow((64, 64), vsync=False)
    if mode == "python-handler":
        def stop(number, frame):
            print("handler ran", flush=True)
            window.close()
            sys.exit(0)
        signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pygame.event.pump()
        window.swap()
        time.sleep(0.01)
    print("not ended by the signal", flush=True)
    sys.exit(7)
    """
)


def _child_env() -> dict[str, str]:
    environment = os.environ.copy()
    environment["SDL_VIDEODRIVER"] = "offscreen"
    environment["PYOPENGL_PLATFORM"] = "egl"  # as installation.render.platform.choose picks offscreen
    environment["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
    environment.pop("SDL_NO_SIGNAL_HANDLERS", None)  # the window must set it itself
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    return environment


@pytest.mark.slow
def test_offscreen_frames_keep_memory_flat_and_close_is_quick() -> None:
    """Rule: over the second half of 300 frames resident memory grows less than 30 MB (0.1 MB a
    frame, a sixth of what one unflushed frame holds), and close() returns within 2 s."""
    result = subprocess.run(
        [sys.executable, "-c", FRAMES_SCRIPT, "300"],
        capture_output=True,
        text=True,
        env=_child_env(),
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["driver"] == "offscreen"
    samples = report["mb"]
    half = len(samples) // 2
    growth = max(samples[half:]) - samples[half]
    assert growth < 30.0, (
        f"grew {growth:.0f} MB over frames {half}..{len(samples)}: {samples[half]:.0f} -> {samples[-1]:.0f} MB"
    )
    assert report["close_s"] < 2.0


def _ended(child: subprocess.Popen[str], sent: float) -> tuple[str, str]:
    """The child's output once it has ended; a failure if it still runs 5 s after the signal."""
    try:
        out, err = child.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        pytest.fail("SIGTERM did not end the process within 5 s: the signal was taken from Python")
    assert time.monotonic() - sent < 2.0, f"ended {time.monotonic() - sent:.1f} s after SIGTERM"
    return out, err


def _signal_child(mode: str) -> tuple[subprocess.Popen[str], float]:
    child = subprocess.Popen(
        [sys.executable, "-c", SIGNAL_SCRIPT, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
        cwd=ROOT,
    )
    assert child.stdout is not None
    lines = []
    while (line := child.stdout.readline()) and line.strip() != "ready":  # until the window is open
        lines.append(line)
    if not line:
        child.kill()
        pytest.fail(f"the child did not open its window: {lines} {child.communicate()[1][-2000:]}")
    child.send_signal(signal.SIGTERM)
    return child, time.monotonic()


@pytest.mark.parametrize("mode", ["default", "pygame-init-first"])
def test_sigterm_ends_a_process_with_an_open_window(mode: str) -> None:
    """Without a Python handler, SIGTERM's default action ends the process (SDL's would queue a
    quit event that nothing reads), also when pygame.init() started SDL's events first."""
    child, sent = _signal_child(mode)
    out, err = _ended(child, sent)
    assert child.returncode == -signal.SIGTERM, (child.returncode, out, err[-2000:])


def test_python_sigterm_handler_runs_with_an_open_window() -> None:
    child, sent = _signal_child("python-handler")
    out, err = _ended(child, sent)
    assert child.returncode == 0, (child.returncode, out, err[-2000:])
    assert "handler ran" in out
