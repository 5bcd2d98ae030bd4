"""``capture --ray`` and ``keyframes --ray`` on a real two-node Ray cluster on loopback, and the
parts that need no cluster: chunking, the GL refusal of a node, Ray never loaded without --ray."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import pytest

from installation.cluster.chunks import frames_per_chunk, split
from installation.keyframes.sequence import load_sequence
from installation.render.offline import Plan
from tests.helpers import metamorph, wait_for
from tests.media import decoded_frames
from tests.ray_cluster import Cluster, two_nodes, worker_pids

SHOW = ["--size", "160x96", "--fps", "20", "--hold", "0.5", "--duration", "1.5", "--quiet"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One cluster for the module: Ray takes seconds to start."""
    with two_nodes(tmp_path_factory.mktemp("ray") / "session") as running:
        yield running


def pngs(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("frame_*.png"))}


def test_chunks_cover_the_range_in_order() -> None:
    parts = split(Plan(7, 30, 40), 6)
    assert [(part.first, part.stop) for part in parts] == [(7, 13), (13, 19), (19, 25), (25, 30)]
    assert frames_per_chunk((3840, 2160)) == 109 and frames_per_chunk((100_000, 100_000)) == 1


def test_plain_capture_and_keyframes_never_import_ray(sequence_folder: Path, photo_file: Path, tmp_path: Path) -> None:
    code = (
        "import sys; from installation.cli import main; import installation.app; "
        f"assert main(['capture', {str(sequence_folder)!r}, '--out', {str(tmp_path / 'frames')!r}, "
        "'--size', '32x32', '--seconds', '0.1', '--quiet']) == 0; "
        f"assert main(['keyframes', {str(photo_file)!r}, '--prompt', 'pink', '--captures', '2', '--steps', '4', "
        f"'--size', '32x32', '--out', {str(tmp_path / 'seq')!r}, '--quiet']) == 0; "
        "assert not [m for m in sys.modules if m == 'ray' or m.startswith('ray.')]"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_node_without_opengl_refuses_its_chunk_in_one_sentence(tmp_path: Path) -> None:
    code = (
        "from pathlib import Path; from installation.options import CaptureOptions; "
        "from installation.cluster.tasks import ChunkJob, render_chunk; "
        f"out = Path({str(tmp_path / 'frames')!r}); "
        "outcome = render_chunk(ChunkJob(3, CaptureOptions(out=out), 0, 5, out, out / 'marker'), None, 'node-a'); "
        "print(outcome.index, outcome.frames, outcome.node_fault, outcome.node); print(outcome.failure)"
    )
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}  # SDL's driver that has no OpenGL
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    status, failure = result.stdout.splitlines()
    assert status == "3 None True node-a" and failure.startswith("OpenGL 3.3 core is needed but ")
    assert failure.endswith("; update the graphics driver, or use Mesa's software renderer (LIBGL_ALWAYS_SOFTWARE=1).")
    assert not (tmp_path / "frames").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["keyframes", "PHOTO", "--prompt", "a", "b"], "Several photos, prompts or seeds make several runs; add --ray"),
        (
            ["capture", "--ray", "PHOTO", "--out", "x.mp4"],
            "--ray took PHOTO for the cluster's address; put --ray after it",
        ),
    ],
    ids=["several runs without ray", "ray before a path"],
)
def test_misuse_is_one_sentence(photo_file: Path, argv: list[str], message: str) -> None:
    result = metamorph(*[str(photo_file) if arg == "PHOTO" else arg for arg in argv])
    assert result.returncode == 2
    assert message.replace("PHOTO", str(photo_file)) in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "look",
    [
        [],
        ["--preset", "drift"],
        ["--preset", "storm"],
        ["--bpm", "150", "--quantum", "1", "--transition-beats", "1", "--hold-beats", "1"],
    ],
    ids=["gentle", "drift", "storm", "on the beat"],
)
def test_four_chunks_give_the_png_files_of_a_single_run(
    cluster: Cluster, sequence_folder: Path, tmp_path: Path, look: list[str]
) -> None:
    # with trails (drift, storm), each chunk starts with the trails of one run: edges mid-transition
    common = ["capture", str(sequence_folder), *look, *SHOW, "--seconds", "1.2"]
    assert metamorph(*common, "--out", str(tmp_path / "single")).returncode == 0
    split_run = metamorph(
        *common, "--out", str(tmp_path / "ray"), "--chunk-frames", "6", "--ray", cluster.address, env=cluster.env
    )
    assert split_run.returncode == 0, split_run.stderr
    assert "24 frames written to" in split_run.stderr and "in 4 chunks" in split_run.stderr
    single = pngs(tmp_path / "single")
    assert len(single) == 24 and pngs(tmp_path / "ray") == single
    written = sorted(path.name for path in (tmp_path / "ray").iterdir())
    assert written == sorted(path.name for path in (tmp_path / "single").iterdir())  # no marker, no partials


@pytest.mark.slow
def test_a_worker_killed_mid_chunk_still_gives_a_complete_video(
    cluster: Cluster, sequence_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "killed.mp4"
    argv = ["capture", str(sequence_folder), *SHOW, "--seconds", "4", "--chunk-frames", "20", "--out", str(out)]
    run = subprocess.Popen(
        [sys.executable, "-m", "installation", *argv, "--ray", cluster.address],
        stderr=subprocess.PIPE,
        text=True,
        env=cluster.env,
    )
    running = wait_for(lambda: run.poll() is None and worker_pids("_chunk_task"), 60, "a chunk seen running")
    assert run.poll() is None
    os.kill(running[0], signal.SIGKILL)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 0, stderr
    assert decoded_frames(out) == 80
    assert sorted(path.name for path in tmp_path.iterdir()) == ["killed.mp4"]  # no chunks folder, no partial


@pytest.mark.slow
def test_a_visitors_wish_is_made_on_the_cluster(
    cluster: Cluster, photo_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``play --visitor-ray``: the studio's worker runs the wish as a Ray task; its sequence lands in
    the visitors' folder like one made here."""
    from installation.visitors.desk import Wish
    from installation.visitors.studio import Recipe, Studio

    for name in ("RAY_AUTH_MODE", "RAY_USAGE_STATS_ENABLED"):
        monkeypatch.setenv(name, cluster.env[name])
    studio = Studio(tmp_path / "visitors", Recipe(steps=10, captures=3, size=(64, 48), ray=cluster.address))
    made = asyncio.run(studio.make(Wish(1, "token", "gold on the lake", "visitor", "10.0.0.1"), photo_file))
    sequence = load_sequence(made)
    assert made.parent == tmp_path / "visitors" and sequence.manifest.prompt == "gold on the lake"
    assert len(sequence) == 4 and [path.name for path in studio.made()] == [made.name]
    assert sorted(path.name for path in (tmp_path / "visitors").iterdir()) == [made.name]


def test_three_keyframe_jobs_make_three_sequences(cluster: Cluster, photo_file: Path, tmp_path: Path) -> None:
    prompts = ["pink wavy", "teal cubist", "gold"]
    result = metamorph(
        "keyframes",
        str(photo_file),
        "--prompt",
        *prompts,
        "--seed",
        "5",
        "--size",
        "64x48",
        "--steps",
        "10",
        "--captures",
        "3",
        "--out",
        str(tmp_path),
        "--quiet",
        "--ray",
        cluster.address,
        env=cluster.env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("done ") == 3 and "failed" not in result.stdout
    folders = sorted(path for path in tmp_path.iterdir() if path.is_dir())
    sequences = [load_sequence(folder) for folder in folders]
    assert sorted(sequence.manifest.prompt for sequence in sequences) == sorted(prompts)
    assert all(len(sequence) == 4 and sequence.manifest.seed == 5 for sequence in sequences)
    assert [folder.name for folder in folders] == ["alps-gold-s5", "alps-pink-wavy-s5", "alps-teal-cubist-s5"]


def capture_held_at_the_join(
    cluster: Cluster, gates: Path, argv: list[str], out: Path
) -> tuple[subprocess.Popen[str], Path, Path]:
    """``argv`` (a capture) on the cluster in chunks of 10 frames to ``out``, its own session, with
    its ffmpeg held at the join (``gated_ffmpeg``): the run, the file that says it joins, the gate."""
    out.parent.mkdir()
    gates.mkdir()
    script, joining, gate = gated_ffmpeg(gates)
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "installation",
            *argv,
            "--chunk-frames",
            "10",
            "--out",
            str(out),
            "--ray",
            cluster.address,
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**cluster.env, "IMAGEIO_FFMPEG_EXE": str(script)},
        start_new_session=True,
    )
    return run, joining, gate


def gated_ffmpeg(folder: Path) -> tuple[Path, Path, Path]:
    """The real ffmpeg behind a gate that holds a join (``-f concat``) until the test opens it:
    a script that says it is joining (a file), then waits on a FIFO. Returns the script, the file
    and the FIFO."""
    joining, gate, script = folder / "joining", folder / "gate", folder / "ffmpeg"
    os.mkfifo(gate)
    script.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" concat "*) : > "{joining}"; read go < "{gate}" ;; esac\n'
        f'exec "{imageio_ffmpeg.get_ffmpeg_exe()}" "$@"\n'
    )
    script.chmod(0o755)
    return script, joining, gate


def open_gate(gate: Path) -> None:
    """Let the held join go on; fails at once (ENXIO) rather than waiting when nothing holds it."""
    descriptor = os.open(gate, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(descriptor, b"go\n")
    finally:
        os.close(descriptor)


@pytest.mark.slow
@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda number: number.name)
def test_a_signal_during_the_final_join_leaves_the_whole_video(
    cluster: Cluster, sequence_folder: Path, tmp_path: Path, number: signal.Signals
) -> None:
    out_folder, gates = tmp_path / "out", tmp_path / "gates"
    out = out_folder / "joined.mp4"
    run, joining, gate = capture_held_at_the_join(
        cluster, gates, ["capture", str(sequence_folder), *SHOW, "--seconds", "2"], out
    )
    wait_for(lambda: joining.exists() or run.poll() is not None, 120, "the final join")
    assert joining.exists(), run.communicate()[1]
    os.killpg(run.pid, number)  # as a terminal (Ctrl-C), a service manager or a logout would
    open_gate(gate)
    _, errors = run.communicate(timeout=120)
    assert run.returncode == 128 + number and "Traceback" not in errors, errors
    assert f"{number.name} arrived while joining the chunks into {out}; that was done first" in errors
    assert decoded_frames(out) == 40
    assert [path.name for path in out_folder.iterdir()] == ["joined.mp4"]  # no chunks folder, no partial


@pytest.mark.slow
def test_a_second_signal_while_the_partial_is_joined_leaves_the_partial(
    cluster: Cluster, sequence_folder: Path, tmp_path: Path
) -> None:
    out_folder, gates = tmp_path / "out", tmp_path / "gates"
    out = out_folder / "joined.mp4"
    shown = [arg for arg in SHOW if arg != "--quiet"]  # the progress bar says when a chunk is done
    run, joining, gate = capture_held_at_the_join(
        cluster, gates, ["capture", str(sequence_folder), *shown, "--seconds", "4"], out
    )
    assert run.stderr is not None
    progress, deadline = "", time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None and not re.search(r"\b[1-7]0/80", progress):
        progress += run.stderr.read(16)
    os.killpg(run.pid, signal.SIGTERM)  # a chunk is done: it is joined into the partial
    wait_for(lambda: joining.exists() or run.poll() is not None, 60, "the join of the partial")
    assert joining.exists(), run.communicate()[1]
    os.killpg(run.pid, signal.SIGINT)  # then Ctrl-C, while that join runs
    open_gate(gate)
    errors = progress + run.communicate(timeout=120)[1]
    partial = out_folder / "joined.mp4.partial"
    frames = re.search(
        rf"interrupted: (\d+) of 80 frames are in {re.escape(str(partial))}, which stays playable", errors
    )
    assert run.returncode == 130 and frames is not None and "Traceback" not in errors, errors
    assert f"SIGINT arrived while joining the finished chunks into a partial {out}; that was done first" in errors
    assert decoded_frames(partial) == int(frames[1]) >= 10
    assert [path.name for path in out_folder.iterdir()] == ["joined.mp4.partial"]  # no chunks folder left
