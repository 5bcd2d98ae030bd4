"""``metamorph keyframes PHOTO... --prompt P... --seed S... --ray``: one Ray task per photo x
prompt x seed, each making its own sequence folder, one GPU each where the cluster has GPUs.

A task writes its folder in place when its node sees the output folder (the manifest is written
last, so a half-made folder is never a sequence), else it sends the files back and the driver
writes them, manifest last. A failed run does not stop the others: the summary table says which
were made and why the others were not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import ray
from ray import ObjectRef

from installation import signals
from installation.cluster.session import connected, failure_reason, wait_ready
from installation.cluster.tasks import KeyframeJob, Outcome, make_sequence
from installation.cluster.transfer import new_marker, write_files
from installation.errors import UserError
from installation.keyframes.make import validate
from installation.keyframes.request import KeyframeRequest, Photo
from installation.keyframes.sequence import MANIFEST, prepare_output

MAX_RETRIES = 2
"""Times Ray runs a keyframe job again whose worker or node died under it."""


@ray.remote(num_cpus=1, max_retries=MAX_RETRIES)
def _keyframe_task(job: KeyframeJob, photo: Photo | None) -> Outcome:
    return make_sequence(job, photo, ray.get_runtime_context().get_node_id())


@dataclass(frozen=True)
class Row:
    """One line of the summary: the sequence folder, and why it was not made ("" when it was)."""

    request: KeyframeRequest
    frames: int | None
    reason: str


def make_on_ray(requests: list[KeyframeRequest], photos: dict[str, Photo], address: str) -> list[Row]:
    """Run every request (its photo by source file name in ``photos``) on the cluster at
    ``address``; return one row per request, in order. Requests are checked before any starts."""
    for request in requests:
        validate(request)
    parent = requests[0].out.parent
    parent.mkdir(parents=True, exist_ok=True)
    marker = new_marker(parent)
    rows: dict[int, Row] = {}
    try:
        with connected(address):
            gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
            shipped: dict[str, ObjectRef[Photo | None]] = {name: ray.put(photo) for name, photo in photos.items()}
            shipped[""] = ray.put(None)
            task = _keyframe_task.options(num_gpus=gpus)
            pending = {
                task.remote(KeyframeJob(i, replace(request, photo=None), marker), shipped[_source(request)]): i
                for i, request in enumerate(requests)
            }
            _collect(pending, requests, rows)
    finally:
        marker.unlink(missing_ok=True)
    return [rows[i] for i in range(len(requests))]


def _source(request: KeyframeRequest) -> str:
    """The photo's file name, the key it travels under ("" from noise)."""
    return "" if request.photo is None else request.photo.source.file


def _collect(pending: dict[ObjectRef[Outcome], int], requests: list[KeyframeRequest], rows: dict[int, Row]) -> None:
    """Wait for every job and fill ``rows``; interrupted, cancel what still runs and mark it so."""
    try:
        while pending:
            for ref in wait_ready(list(pending)):
                index = pending.pop(ref)
                rows[index] = _row(ref, requests[index])
    except (KeyboardInterrupt, signals.Stopped):
        for ref, index in pending.items():
            ray.cancel(ref, force=True)
            rows[index] = Row(requests[index], None, "Interrupted before it finished.")
        raise


def _row(ref: ObjectRef[Outcome], request: KeyframeRequest) -> Row:
    """A job's row: done, its one-sentence failure, or the task lost for good."""
    try:
        outcome: Outcome = ray.get(ref)
    except ray.exceptions.RayError as error:
        return Row(request, None, f"The task failed {MAX_RETRIES + 1} times ({failure_reason(error)}).")
    if outcome.frames is None:
        return Row(request, None, outcome.failure)
    if outcome.files is not None:
        try:
            prepare_output(request.out, request.force)
            write_files(outcome.files, request.out, last=MANIFEST)
        except UserError as error:
            return Row(request, None, str(error))
        except OSError as error:
            return Row(
                request,
                None,
                f"{request.out} cannot be written ({error.strerror}); free disk space or choose another --out.",
            )
    return Row(request, outcome.frames, "")


def table(rows: list[Row]) -> str:
    """The summary: one line per run, done or failed with its reason."""
    lines = []
    for row in rows:
        request = row.request
        source = _source(request) or "noise"
        what = f"{source} | {request.prompt!r} | seed {request.seed}"
        status = (
            f"done    {request.out} ({row.frames} keyframes)" if row.frames is not None else f"failed  {row.reason}"
        )
        lines.append(f"{status} | {what}")
    return "\n".join(lines)
