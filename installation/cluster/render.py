"""``metamorph capture --ray``: a capture cut into chunks, rendered as Ray tasks, joined in order.

Frames are a pure function of the pipeline's inputs and a chunk fast-forwards to its first
frame, so the chunks' PNG files are those of one run, and their video segments join (ffmpeg's
concat, no re-encoding) into a video of the same frames and timestamps. The music is muxed once,
over the joined video. A task whose worker dies is run again by Ray; a node without OpenGL gets
no more chunks, which go to the other nodes. Ctrl-C, SIGTERM or SIGHUP cancels the running tasks
and joins the finished chunks at the start into a playable ``NAME.partial``, as a plain capture
does. The chunks lie in a folder only this run uses; a signal during a join (the final one, or
that of the partial) is held back until the join is done (``finishing``).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from pathlib import Path

import ray
from ray import ObjectRef
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
from tqdm import tqdm

from installation import signals
from installation.capture import plan_capture
from installation.cluster.chunks import frames_per_chunk, split
from installation.cluster.session import connected, failure_reason, wait_ready
from installation.cluster.tasks import ChunkJob, Outcome, is_video, render_chunk
from installation.cluster.transfer import Inputs, new_marker, pack_inputs, write_files
from installation.errors import UserError
from installation.files import keep_partial, publish, run_partial
from installation.options import CaptureOptions
from installation.render.offline import Plan
from installation.render.video import (
    clear_frames,
    concat,
    container_arguments,
    ffmpeg_reason,
    finishing,
    music_arguments,
    run_ffmpeg,
)

log = logging.getLogger(__name__)
MAX_RETRIES = 3
"""Times Ray runs a chunk again whose worker or node died under it."""


@ray.remote(num_cpus=1, max_retries=MAX_RETRIES)
def _chunk_task(job: ChunkJob, inputs: Inputs) -> Outcome:
    return render_chunk(job, inputs, ray.get_runtime_context().get_node_id())


def capture_on_ray(options: CaptureOptions) -> int:
    """Render ``options`` on the Ray cluster at ``options.ray``; return the frames written."""
    address = options.ray
    assert address is not None
    stage, plan = plan_capture(options)
    options = replace(options, show=replace(options.show, sequence=stage.sequence.folder))
    parts = split(plan, options.chunk_frames or frames_per_chunk(options.size))
    work = _workspace(options.out)
    marker = new_marker(work)
    jobs = [
        ChunkJob(i, options, part.first, part.stop, _target(options.out, work, i), marker)
        for i, part in enumerate(parts)
    ]
    finished: set[int] = set()
    try:
        try:
            with connected(address):
                _run(jobs, ray.put(pack_inputs(options)), plan, options, finished)
        except (KeyboardInterrupt, signals.Stopped):
            _keep_partial(jobs, _prefix(finished), plan, options)
            raise
        with finishing(f"joining the chunks into {options.out}"):
            if is_video(options.out):
                _finish_video(options, [job.target for job in jobs], plan.first, plan.count, complete=True)
            log.info("%d frames written to %s in %d chunks", plan.count, options.out, len(jobs))
        return plan.count
    finally:
        marker.unlink(missing_ok=True)
        if is_video(options.out):
            shutil.rmtree(work, ignore_errors=True)


def _workspace(out: Path) -> Path:
    """Where chunks land: beside a video, a hidden folder only this run uses (removed at the end),
    or the PNG folder."""
    if not is_video(out):
        clear_frames(out)
        folder = out
    else:
        folder = run_partial(out.with_name(f".{out.name}")).with_suffix(".chunks")
    try:
        folder.mkdir(parents=True, exist_ok=not is_video(out))
    except OSError as error:
        raise UserError(f"The output {out} cannot be written ({error.strerror}); choose another --out.") from error
    return folder


def _target(out: Path, work: Path, index: int) -> Path:
    return work / f"chunk_{index:05d}{out.suffix}" if is_video(out) else out


def _run(
    jobs: list[ChunkJob], inputs: ObjectRef[Inputs], plan: Plan, options: CaptureOptions, finished: set[int]
) -> None:
    """Run every chunk, one progress bar over all frames, adding each finished one to ``finished``;
    stopped or failed, it cancels what still runs."""
    pending: dict[ObjectRef[Outcome], ChunkJob] = {_chunk_task.remote(job, inputs): job for job in jobs}
    refused: set[str] = set()
    try:
        with signals.polling(), tqdm(total=plan.count, unit="frame", desc="capture", disable=options.quiet) as bar:
            while pending:
                for ref in wait_ready(list(pending)):
                    job = pending.pop(ref)
                    outcome = _outcome(ref, job)
                    if outcome.node_fault:
                        refused.add(outcome.node)
                        pending[_elsewhere(job, inputs, refused, outcome.failure)] = job
                        continue
                    _deliver(job, outcome)
                    finished.add(job.index)
                    bar.update(job.stop - job.first)
    except BaseException:
        _cancel(pending)
        raise


def _keep_partial(jobs: list[ChunkJob], done: int, plan: Plan, options: CaptureOptions) -> None:
    """After a stop, join the first ``done`` chunks into the output's playable partial video."""
    frames = jobs[done - 1].stop - plan.first if done else 0
    if is_video(options.out) and not done:
        log.warning("interrupted before the first chunk was finished; no video was written")
        return
    with finishing(f"joining the finished chunks into a partial {options.out}"):  # a signal held back comes last
        kept = options.out
        if is_video(options.out):
            kept = _finish_video(options, [job.target for job in jobs[:done]], plan.first, frames, complete=False)
        log.warning("interrupted: %d of %d frames are in %s, which stays playable", frames, plan.count, kept)


def _outcome(ref: ObjectRef[Outcome], job: ChunkJob) -> Outcome:
    """A chunk's outcome; its one-sentence failure, or a task lost for good, as a ``UserError``."""
    try:
        outcome: Outcome = ray.get(ref)
    except ray.exceptions.RayError as error:
        raise UserError(
            f"Chunk {job.index} (frames {job.first}:{job.stop}) failed on the cluster {MAX_RETRIES + 1} times "
            f"({failure_reason(error)}); see the Ray logs of its node."
        ) from error
    if outcome.frames is None and not outcome.node_fault:
        raise UserError(outcome.failure)
    return outcome


def _elsewhere(job: ChunkJob, inputs: ObjectRef[Inputs], refused: set[str], reason: str) -> ObjectRef[Outcome]:
    """Send ``job`` to a live node that has not refused to render; none left: the node's sentence."""
    nodes = [node["NodeID"] for node in ray.nodes() if node["Alive"] and node["NodeID"] not in refused]
    if not nodes:
        raise UserError(reason)
    log.warning("node %s cannot render; chunk %d goes to node %s", next(iter(refused))[:8], job.index, nodes[0][:8])
    strategy = NodeAffinitySchedulingStrategy(node_id=nodes[job.index % len(nodes)], soft=False)
    return _chunk_task.options(scheduling_strategy=strategy).remote(job, inputs)


def _deliver(job: ChunkJob, outcome: Outcome) -> None:
    """Write what a node without the shared path sent back where it would have written it."""
    if outcome.files is None:
        return
    folder = job.target.parent if is_video(job.target) else job.target
    try:
        write_files(outcome.files, folder)
    except OSError as error:
        raise UserError(
            f"The output {folder} cannot be written ({error.strerror}); free disk space or choose another --out."
        ) from error


def _cancel(pending: dict[ObjectRef[Outcome], ChunkJob]) -> None:
    for ref in pending:
        ray.cancel(ref, force=True)


def _prefix(finished: set[int]) -> int:
    """How many chunks are done without a gap from the first: what can be joined in order."""
    done = 0
    while done in finished:
        done += 1
    return done


def _finish_video(options: CaptureOptions, segments: list[Path], first: int, frames: int, complete: bool) -> Path:
    """Join ``segments`` (frames ``first`` on, ``frames`` of them), mux the music over them, and
    name the result: ``options.out`` when ``complete``, else its playable partial name."""
    joined = segments[0].with_name(f"joined{options.out.suffix}")
    concat(segments, joined, force=True)
    working = run_partial(options.out)
    _mux(joined, working, options, first / options.fps, frames / options.fps)
    if not complete:
        return keep_partial(working, options.out, options.force)
    return publish(working, options.out, options.force)


def _mux(joined: Path, out: Path, options: CaptureOptions, start: float, seconds: float) -> None:
    """Copy the joined video into ``out`` with the music of its time span, as a single capture
    muxes it (same audio codec, same offset and length); no video is re-encoded."""
    music = music_arguments(options.audio, start, seconds, options.codec) if options.audio else ([], [])
    command = ["-i", str(joined), *music[0], *music[1], "-c:v", "copy", *container_arguments(options.out, out)]
    result = run_ffmpeg(command)
    if result.returncode != 0:
        out.unlink(missing_ok=True)
        reason = ffmpeg_reason(result.stderr) or "unknown error"
        raise UserError(f"ffmpeg could not mux the music into {options.out} ({reason}); check disk space and --audio.")
