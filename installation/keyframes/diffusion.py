"""The diffusers backend: a real diffusion model, with its denoising steps captured as keyframes.

Read top to bottom: import torch and diffusers (only here, only now), pick device and dtype,
load the pipeline (image-to-image, or text-to-image for ``--from-noise``) from a hub id or a
folder, then run it once with two small hooks, diffusers' extension points rather than a copy of
its loop:

* ``callback_on_step_end`` sees every step; at the captured ones it decodes a picture;
* ``scheduler.step`` is wrapped (``functools.wraps`` keeps the signature the pipeline inspects)
  to keep the step's clean-image estimate x0 (``pred_original_sample``, LCM's ``denoised``, or
  computed from the noise prediction for schedulers that return neither).

Frame 0 is the photo through the pipeline's own pre- and post-processing; the last frame is the
pipeline's output, untouched by the capture. A few-step model (turbo) that executes fewer steps
than ``--captures`` is captured by a strength sweep instead: one seed, one single-step run per
capture, each from its own noise level. From noise, such a model has only its few steps, and
every one of them is captured.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from installation.errors import UserError
from installation.keyframes.images import fit, to_uint8
from installation.keyframes.request import DEFAULT_MODEL, Generated, KeyframeRequest, capture_indices
from installation.keyframes.sequence import Frame, frame_file

log = logging.getLogger(__name__)
SCHEDULERS = {
    "ddim": "DDIMScheduler",
    "ddpm": "DDPMScheduler",
    "pndm": "PNDMScheduler",
    "lms": "LMSDiscreteScheduler",
    "euler": "EulerDiscreteScheduler",
    "euler-a": "EulerAncestralDiscreteScheduler",
    "heun": "HeunDiscreteScheduler",
    "dpm": "DPMSolverMultistepScheduler",
    "unipc": "UniPCMultistepScheduler",
    "lcm": "LCMScheduler",
}
DTYPES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")
"""Weight files in Python's pickle format, which can run code when loaded: never read here."""
_INSTALL = (
    "pip install 'diffusive-metamorphosis[diffusion]' (install the torch build for your GPU first, "
    "see pytorch.org), or use --backend procedural, which needs no model"
)


def generate(request: KeyframeRequest) -> Generated:
    """Run the model of ``request`` and return the photo, the captured steps and the result."""
    torch, diffusers = _import(request.quiet)
    device, dtype = _device_and_dtype(torch, request.device, request.dtype)
    pipe = load_pipeline(diffusers, torch, request.model, request.from_noise, dtype)
    if request.scheduler:
        pipe.scheduler = _scheduler(diffusers, request.scheduler, pipe.scheduler, request.model)
    pipe.to(device)
    pipe.set_progress_bar_config(disable=request.quiet, desc="denoising", leave=False)
    size = request.size or native_size(pipe, request.photo)
    _check_size(pipe, size)
    preview = _preview_decoder(diffusers, request.preview_vae, dtype, device)
    try:
        with torch.inference_mode():
            run = capture_steps(torch, pipe, request, size, preview)
            if request.from_noise or run.executed >= request.captures:
                frames, infos, options = _step_frames(request, run)
            else:
                frames, infos, options = _strength_sweep(torch, diffusers, pipe, request, size, run)
    except torch.cuda.OutOfMemoryError as error:
        raise UserError(
            f"The GPU ran out of memory for {request.model} at {size[0]}x{size[1]} ({error}); try --dtype fp16, "
            "a smaller --size, or --device cpu."
        ) from error
    return Generated(
        frames=frames,
        infos=infos,
        size=size,
        model=request.model,
        scheduler=type(pipe.scheduler).__name__,
        strength=1.0 if request.from_noise else request.strength,
        guidance=request.guidance,
        steps_executed=run.executed,
        options={
            **options,
            "pipeline": type(pipe).__name__,
            "device": device,
            "dtype": str(dtype).removeprefix("torch."),
            "preview_vae": request.preview_vae,
        },
    )


# Set-up ----------------------------------------------------------------------------------------


def _import(quiet: bool) -> tuple[Any, Any]:
    try:
        import diffusers
        import torch
        import transformers
    except ImportError as error:
        raise UserError(f"The diffusers backend needs the `diffusion` extra ({error}); {_INSTALL}.") from error
    diffusers.utils.logging.set_verbosity_error()
    transformers.utils.logging.set_verbosity_error()
    if quiet:
        diffusers.utils.logging.disable_progress_bar()
        transformers.utils.logging.disable_progress_bar()
    return torch, diffusers


def _device_and_dtype(torch: Any, device: str, dtype: str) -> tuple[str, Any]:
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if device == "auto":
        device = next(name for name in ("cuda", "mps", "cpu") if available[name])
    if device not in available:
        raise UserError(f"--device {device} is unknown; choose auto, cpu, cuda or mps.")
    if not available[device]:
        raise UserError(
            f"--device {device} was asked for but torch {torch.__version__} sees no such device; use --device cpu, "
            "or install a torch build for that GPU."
        )
    if dtype == "auto":
        dtype = "fp32" if device == "cpu" else "fp16"
    if dtype not in DTYPES:
        raise UserError(f"--dtype {dtype} is unknown; choose auto, fp16, bf16 or fp32.")
    if device == "cpu" and dtype == "fp16":
        raise UserError("--dtype fp16 is not supported on the CPU by most operations; use --dtype fp32 or bf16.")
    return device, getattr(torch, DTYPES[dtype])


def load_pipeline(diffusers: Any, torch: Any, model: str, from_noise: bool, dtype: Any) -> Any:
    """The Auto pipeline for ``model`` (a local folder or a hub id), safetensors only, no safety checker."""
    folder = Path(model).expanduser()
    local = folder.exists()
    if local and not (folder / "model_index.json").is_file():
        raise UserError(
            f"The model folder {folder} holds no model_index.json; give a diffusers model folder (save_pretrained) or a hub id."
        )
    snapshot = folder if local else _cached(model)
    if snapshot is None:
        _check_reachable(model)
    else:
        _refuse_pickle_weights(model, snapshot)
    auto = diffusers.AutoPipelineForText2Image if from_noise else diffusers.AutoPipelineForImage2Image
    try:
        return auto.from_pretrained(
            str(folder) if local else model,
            dtype=dtype,
            use_safetensors=True,
            safety_checker=None,
            requires_safety_checker=False,
            local_files_only=snapshot is not None,
        )
    except OSError as error:
        raise _loading_error(model, error) from error


def _cached(model: str) -> Path | None:
    """The folder of ``model`` in the local hub cache, or None when it is not there."""
    from huggingface_hub import try_to_load_from_cache

    try:
        index = try_to_load_from_cache(model, "model_index.json")
    except Exception:  # an id that is not even a valid repo name is simply not cached
        return None
    return Path(index).parent if isinstance(index, str) else None


def _refuse_pickle_weights(model: str, folder: Path) -> None:
    """Name the parts of a local model that have only pickle weights, which diffusers would
    otherwise report as a missing file (and this tool as an offline machine)."""
    parts = sorted(
        part.name
        for part in (folder, *(child for child in folder.iterdir() if child.is_dir()))
        if _weight_suffixes(part) and ".safetensors" not in _weight_suffixes(part)
    )
    if parts:
        raise UserError(
            f"The model {model} has only pickle weights (.bin, .pt or .ckpt) for {', '.join(parts)}, never loaded since "
            "pickle can run code; convert them to safetensors (load with diffusers, then save_pretrained) or give "
            "a model that ships .safetensors files."
        )


def _weight_suffixes(folder: Path) -> set[str]:
    return {path.suffix for path in folder.iterdir() if path.suffix in (".safetensors", *PICKLE_SUFFIXES)}


def _check_reachable(model: str) -> None:
    """Fail at once, with the reason, for a model that is neither cached nor downloadable."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise _offline_error(model, "HF_HUB_OFFLINE is set")
    try:
        HfApi().model_info(model, timeout=10)
    except GatedRepoError as error:
        raise _gated_error(model) from error
    except RepositoryNotFoundError as error:
        raise UserError(
            f"The model {model} was not found on the Hugging Face hub; check the id (e.g. {DEFAULT_MODEL}), "
            "or give a local folder."
        ) from error
    except Exception as error:  # no network, DNS, proxy, timeout: the answer is known, say it now
        raise _offline_error(model, f"the hub cannot be reached: {error}") from error


def _loading_error(model: str, error: OSError) -> UserError:
    from huggingface_hub.errors import GatedRepoError

    chain = []
    cause: BaseException | None = error
    while cause is not None:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(isinstance(item, GatedRepoError) for item in chain):
        return _gated_error(model)
    reason = str(error).splitlines()[0]
    if Path(model).expanduser().exists():
        return UserError(
            f"The model folder {model} cannot be loaded ({reason}); give a complete diffusers folder "
            "(save_pretrained, with .safetensors weights) or a hub id."
        )
    return _offline_error(model, reason)


def _offline_error(model: str, reason: str) -> UserError:
    return UserError(
        f"The model {model} is not in the local cache and cannot be downloaded ({reason}): this machine is "
        f"offline or the id is wrong; download it where there is network (huggingface-cli download {model}) "
        "and copy the cache or give its folder, or use --backend procedural to work without weights."
    )


def _gated_error(model: str) -> UserError:
    return UserError(
        f"The model {model} is gated; accept its licence on its Hugging Face page and log in "
        "(huggingface-cli login), or choose another --model."
    )


def _scheduler(diffusers: Any, name: str, current: Any, model: str) -> Any:
    """The scheduler ``name`` in place of the model's own, if the model's declares it compatible
    (a flow-matching model run by a noise-prediction scheduler crashes inside the pipeline)."""
    if name not in SCHEDULERS:
        raise UserError(f"--scheduler {name} is unknown; choose one of {', '.join(SCHEDULERS)}.")
    compatible = {kind.__name__ for kind in current.compatibles}
    if SCHEDULERS[name] not in compatible:
        fitting = [key for key, kind in SCHEDULERS.items() if kind in compatible]
        choices = f"choose one of {', '.join(fitting)} or leave --scheduler out" if fitting else "leave --scheduler out"
        raise UserError(
            f"--scheduler {name} does not work with {model}, whose scheduler is {type(current).__name__}; {choices}."
        )
    return getattr(diffusers, SCHEDULERS[name]).from_config(current.config)


def _preview_decoder(diffusers: Any, model: str | None, dtype: Any, device: str) -> Any:
    """A small autoencoder (e.g. AutoencoderTiny) for the intermediate frames, if asked for."""
    if model is None:
        return None
    if Path(model).expanduser().is_dir():
        _refuse_pickle_weights(model, Path(model).expanduser())
    try:
        return diffusers.AutoencoderTiny.from_pretrained(model, dtype=dtype, use_safetensors=True).to(device)
    except OSError as error:
        raise _loading_error(model, error) from error


def _denoiser(pipe: Any) -> Any:
    """The UNet, or the transformer of SD3-style models."""
    return getattr(pipe, "unet", None) or pipe.transformer


def size_multiple(pipe: Any) -> int:
    """What frame sides must be multiples of: the VAE's scale factor times the transformer's patch
    size (8 x 2 = 16 for SD3; a UNet has no patches, so 8)."""
    return int(pipe.vae_scale_factor * (getattr(_denoiser(pipe).config, "patch_size", None) or 1))


def native_size(pipe: Any, photo: Any) -> tuple[int, int]:
    """The photo's aspect at the model's native resolution (e.g. 512 px for SD 1.5), in multiples
    the model accepts."""
    native = _denoiser(pipe).config.sample_size * pipe.vae_scale_factor
    if photo is None:
        return (native, native)
    height, width = photo.pixels.shape[:2]
    scale = native / math.sqrt(width * height)
    multiple = size_multiple(pipe)
    return (
        max(multiple, round(width * scale / multiple) * multiple),
        max(multiple, round(height * scale / multiple) * multiple),
    )


def _check_size(pipe: Any, size: tuple[int, int]) -> None:
    multiple = size_multiple(pipe)
    if size[0] % multiple or size[1] % multiple:
        fixed = (max(multiple, size[0] // multiple * multiple), max(multiple, size[1] // multiple * multiple))
        raise UserError(
            f"--size {size[0]}x{size[1]} is not a multiple of {multiple} for this model; use --size {fixed[0]}x{fixed[1]}."
        )


# Running ---------------------------------------------------------------------------------------


def _generator(torch: Any, seed: int) -> Any:
    """A CPU generator: the same seed gives the same noise on any device."""
    return torch.Generator("cpu").manual_seed(seed)


def _common(request: KeyframeRequest, size: tuple[int, int]) -> dict[str, Any]:
    return {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt or None,
        "guidance_scale": request.guidance,
        "width": size[0],
        "height": size[1],
        "output_type": "np",
    }


@dataclass
class Run:
    """One pipeline run with its captured steps: what a sequence's frames are made of."""

    first: np.ndarray
    """The photo through the pipeline's own processing, or for text-to-image the starting noise."""
    pictures: list[tuple[int, int, np.ndarray]]
    """(step, timestep, picture) of each captured step before the last."""
    final: np.ndarray
    executed: int
    """The steps the pipeline executed (its ``num_timesteps``)."""
    first_timestep: float | None
    """Where the run started: its first step's timestep, the run's own noise level."""
    last_timestep: int | None


Frames = tuple[list[np.ndarray], list[Frame], dict[str, Any]]
"""A sequence's 8-bit frames, their manifest entries, and the manifest options saying how they were made."""


def _photo(request: KeyframeRequest, size: tuple[int, int]) -> Image.Image | None:
    return None if request.photo is None else Image.fromarray(to_uint8(fit(request.photo.pixels, size)))


def capture_steps(torch: Any, pipe: Any, request: KeyframeRequest, size: tuple[int, int], preview: Any) -> Run:
    """One run of the pipeline, its steps captured evenly over those it executes.

    From noise, the starting latents are drawn here as the pipeline would draw them, from the
    generator it then goes on using (ancestral schedulers draw more noise at every step), so the
    result is byte for byte that of a plain run with the same seed.
    """
    image = _photo(request, size)
    generator = _generator(torch, request.seed)
    decode = functools.partial(_decode, pipe, preview)
    capture = StepCapture(pipe, request.captures, request.capture_mode, decode, sweep=image is not None)
    arguments = _common(request, size) | {"num_inference_steps": request.steps, "generator": generator}
    if image is None:
        channels = _denoiser(pipe).config.in_channels
        shape = (1, channels, size[1] // pipe.vae_scale_factor, size[0] // pipe.vae_scale_factor)
        arguments["latents"] = torch.randn(shape, generator=generator, dtype=pipe.dtype).to(pipe.device)
        first = _decode(pipe, None, arguments["latents"])
    else:
        arguments |= {"image": image, "strength": request.strength}
        tensor = pipe.image_processor.preprocess(image, height=size[1], width=size[0])
        first = pipe.image_processor.postprocess(tensor, output_type="np")[0]
    with capture.installed():
        output = pipe(**arguments, callback_on_step_end=capture, callback_on_step_end_tensor_inputs=["latents"])
    return Run(
        to_uint8(first),
        capture.pictures,
        to_uint8(output.images[0]),
        capture.executed,
        capture.first_timestep,
        capture.last_timestep,
    )


def _step_frames(request: KeyframeRequest, run: Run) -> Frames:
    """The frames of a run that executed enough steps, or of a text-to-image run that has only its
    few steps: then every step is a frame, and the user is told why there are fewer."""
    frames = [run.first, *(to_uint8(picture) for _, _, picture in run.pictures), run.final]
    infos = [Frame(frame_file(0), "noise" if request.from_noise else "photo")]
    infos += [
        Frame(frame_file(index), "step", step, timestep)
        for index, (step, timestep, _) in enumerate(run.pictures, start=1)
    ]
    infos.append(Frame(frame_file(len(infos)), "final", run.executed - 1, run.last_timestep))
    options: dict[str, Any] = {"capture_method": "steps"}
    if run.executed < request.captures:
        log.warning(
            "%s executes %d steps from noise, fewer than --captures %d: every step is captured (%d frames); "
            "raise --steps for more.",
            request.model,
            run.executed,
            request.captures,
            len(frames),
        )
        options["captures_asked"] = request.captures
    return frames, infos, options


def _strength_sweep(
    torch: Any, diffusers: Any, pipe: Any, request: KeyframeRequest, size: tuple[int, int], run: Run
) -> Frames:
    """For few-step models: the same seed at increasing strength, one run per capture.

    Each run but the last is a single step from its own noise level (an explicit timestep, or a
    sigma for flow matching), so every frame differs; letting the strength pick the level would
    round many strengths to the same step. One step of any first-order scheduler from a level to
    the end is the clean estimate from that level, so an Euler scheduler of the model's kind runs
    them (Euler takes explicit levels; the model's own may not). The last frame is the run itself,
    so the sweep climbs to the run's own noise level, not to ``--strength``: the steps x strength
    a scheduler rounds down (or a schedule whose late steps sit near its end) start the run lower,
    and a sweep past it would get noisier and then jump back.
    """
    image = _photo(request, size)
    own, flow = pipe.scheduler, not hasattr(pipe.scheduler, "alphas_cumprod")
    assert run.first_timestep is not None  # a sweep follows a run that executed steps
    top = _own_strength(request, run.first_timestep, run.executed, own.config.num_train_timesteps, flow)
    strengths = [top * (i + 1) / request.captures for i in range(request.captures)]
    euler = diffusers.FlowMatchEulerDiscreteScheduler if flow else diffusers.EulerDiscreteScheduler
    pipe.scheduler = euler.from_config(own.config, **_plain_levels(flow))
    levels = [_noise_level(pipe.scheduler, strength, flow) for strength in strengths[:-1]]
    frames, infos = [run.first], [Frame(frame_file(0), "photo")]
    pipe.set_progress_bar_config(disable=True)
    try:
        for index, level in enumerate(tqdm(levels, desc="strength sweep", unit="run", disable=request.quiet), start=1):
            schedule = {"sigmas": [level]} if flow else {"timesteps": [level]}
            output = pipe(
                **_common(request, size),
                image=image,
                strength=1.0,
                **schedule,
                generator=_generator(torch, request.seed),
            )
            frames.append(to_uint8(output.images[0]))
            infos.append(Frame(frame_file(index), "step", None, int(pipe.scheduler.timesteps[0])))
    finally:
        pipe.scheduler = own
    frames.append(run.final)
    infos.append(Frame(frame_file(len(infos)), "final", run.executed - 1, run.last_timestep))
    return (
        frames,
        infos,
        {
            "capture_method": "strength-sweep",
            "sweep_strengths": [round(s, 6) for s in strengths],
            "sweep_timesteps": [frame.timestep for frame in infos[1:-1]] + [int(run.first_timestep)],
            "sweep_scheduler": euler.__name__,
        },
    )


def _own_strength(request: KeyframeRequest, start: float, executed: int, total: int, flow: bool) -> float:
    """The strength the run itself started from, read from its first timestep (the inverse of
    ``_noise_level``; for flow matching the shifted sigma, since the sweep runs unshifted); one
    sentence when it leaves too few noise levels for a distinct frame per capture."""
    strength = start / total if flow else (start + 1) / total
    if strength * total < request.captures:
        raise UserError(
            f"--steps {request.steps} with --strength {request.strength} runs {request.model} from timestep "
            f"{start:.0f} of {total} only ({executed} of its {request.steps} steps), too little "
            f"noise for --captures {request.captures} distinct frames; raise --steps or --strength, or lower "
            "--captures."
        )
    return strength


def _plain_levels(flow: bool) -> dict[str, Any]:
    """Scheduler settings under which an explicit level is used as given: no Karras or other
    re-spacing, and for flow matching no shift, since the levels are already the run's own sigmas."""
    plain: dict[str, Any] = {"use_karras_sigmas": False, "use_exponential_sigmas": False, "use_beta_sigmas": False}
    if flow:
        plain |= {"shift": 1.0, "use_dynamic_shifting": False, "shift_terminal": None}
    return plain


def _noise_level(scheduler: Any, strength: float, flow: bool) -> float | int:
    """Where a run of ``strength`` starts: the training timestep that fraction of the way to pure
    noise, or for flow matching the sigma itself."""
    if flow:
        return strength
    total = scheduler.config.num_train_timesteps
    return min(max(round(strength * total) - 1, 0), total - 1)


class StepCapture:
    """The callback and the scheduler wrap that keep pictures of the captured steps.

    Only the steps to capture are decoded; the last step is not (the pipeline's own output is
    the last frame), so capture adds exactly ``captures - 1`` decodes to a run. With ``sweep``, a
    run of fewer steps than captures decodes none: a strength sweep makes those frames.
    """

    def __init__(self, pipe: Any, captures: int, mode: str, decode: Callable[[Any], np.ndarray], sweep: bool) -> None:
        self.pipe = pipe
        self.captures = captures
        self.mode = mode
        self.decode = decode
        self.sweep = sweep
        self.pictures: list[tuple[int, int, np.ndarray]] = []
        self.executed = 0
        self.first_timestep: float | None = None
        self.last_timestep: int | None = None
        self._wanted: set[int] | None = None
        self._clean: Any = None

    def __call__(self, pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        if self._wanted is None:
            self.executed = pipe.num_timesteps
            self.first_timestep = float(timestep)
            swept = self.sweep and self.executed < self.captures
            self._wanted = set() if swept else set(capture_indices(self.executed, min(self.captures, self.executed)))
        self.last_timestep = int(timestep)
        if step in self._wanted and step < self.executed - 1:
            latents = self._clean if self.mode == "x0" and self._clean is not None else tensors["latents"]
            self.pictures.append((step, int(timestep), self.decode(latents)))
        return tensors

    @contextmanager
    def installed(self) -> Iterator[None]:
        """A context in which ``scheduler.step`` also records the clean-image estimate."""
        scheduler = self.pipe.scheduler
        original = scheduler.step

        @functools.wraps(original)
        def step(model_output, timestep, sample, *args, **kwargs):
            result = original(model_output, timestep, sample, *args, **kwargs)
            self._clean = _clean_estimate(scheduler, result, model_output, timestep, sample)
            return result

        scheduler.step = step
        try:
            yield
        finally:
            scheduler.step = original


def _clean_estimate(scheduler: Any, result: Any, model_output: Any, timestep: Any, sample: Any) -> Any:
    """x0 from the step's output, or from the model's prediction where the scheduler gives none.

    The sigma of flow matching is read after the step: before the first one, the scheduler has no
    step index yet.
    """
    for name in ("pred_original_sample", "denoised"):
        value = getattr(result, name, None)
        if value is not None:
            return value
    if isinstance(result, tuple) and len(result) > 1 and result[1] is not None:
        return result[1]
    config = scheduler.config
    if hasattr(scheduler, "alphas_cumprod") and config.get("prediction_type", "epsilon") in ("epsilon", "v_prediction"):
        abar = scheduler.alphas_cumprod.to(sample.device)[int(timestep)].to(sample.dtype)
        if config.get("prediction_type") == "v_prediction":
            return abar.sqrt() * sample - (1 - abar).sqrt() * model_output
        return (sample - (1 - abar).sqrt() * model_output) / abar.sqrt()
    sigmas, index = getattr(scheduler, "sigmas", None), getattr(scheduler, "step_index", None)
    if sigmas is not None and index is not None:  # flow matching: x_t = (1 - s) x0 + s noise, v = noise - x0
        return sample - sigmas[index - 1].to(sample.device, sample.dtype) * model_output
    return None


def _decode(pipe: Any, preview: Any, latents: Any) -> np.ndarray:
    """Latents to an RGB picture in [0, 1] with the preview decoder or the pipeline's own VAE.

    A VAE that overflows in half precision (SDXL's ``force_upcast``) decodes in float32, as the
    pipelines themselves do.
    """
    import torch

    vae = preview or pipe.vae
    config = vae.config
    scaled = latents / config.scaling_factor + (getattr(config, "shift_factor", None) or 0.0)
    half = vae.dtype == torch.float16
    if half and getattr(config, "force_upcast", False):
        vae.to(torch.float32)
        try:
            decoded = vae.decode(scaled.float(), return_dict=False)[0]
        finally:
            vae.to(torch.float16)
    else:
        decoded = vae.decode(scaled.to(vae.dtype), return_dict=False)[0]
    return pipe.image_processor.postprocess(decoded.float(), output_type="np")[0]
