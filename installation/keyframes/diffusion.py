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
than ``--captures`` is captured by a strength sweep instead: one seed, increasing strength.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np
from PIL import Image
from tqdm import tqdm

from installation.errors import UserError
from installation.keyframes.capture import capture_indices
from installation.keyframes.images import fit, to_uint8
from installation.keyframes.request import DEFAULT_MODEL, Generated, KeyframeRequest
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
        pipe.scheduler = _scheduler(diffusers, request.scheduler, pipe.scheduler.config)
    pipe.to(device)
    pipe.set_progress_bar_config(disable=request.quiet, desc="denoising", leave=False)
    size = request.size or native_size(pipe, request.photo)
    _check_size(pipe, size)
    preview = _preview_decoder(diffusers, request.preview_vae, dtype, device)
    executed = request.steps_executed
    try:
        with torch.inference_mode():
            if request.from_noise or executed >= request.captures:
                frames, infos, options = capture_steps(torch, pipe, request, size, preview)
            else:
                frames, infos, options = _strength_sweep(torch, pipe, request, size)
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
        steps_executed=executed,
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
        raise UserError(f"The model folder {folder} holds no model_index.json; give a diffusers model folder (save_pretrained) or a hub id.")
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
        part.name for part in (folder, *(child for child in folder.iterdir() if child.is_dir()))
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


def _scheduler(diffusers: Any, name: str, config: Any) -> Any:
    if name not in SCHEDULERS:
        raise UserError(f"--scheduler {name} is unknown; choose one of {', '.join(SCHEDULERS)}.")
    return getattr(diffusers, SCHEDULERS[name]).from_config(config)


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


def native_size(pipe: Any, photo: Any) -> tuple[int, int]:
    """The photo's aspect at the model's native resolution (e.g. 512 px for SD 1.5), in multiples of 8."""
    denoiser = getattr(pipe, "unet", None) or pipe.transformer
    native = denoiser.config.sample_size * pipe.vae_scale_factor
    if photo is None:
        return (native, native)
    height, width = photo.pixels.shape[:2]
    scale = native / math.sqrt(width * height)
    return (max(8, round(width * scale / 8) * 8), max(8, round(height * scale / 8) * 8))


def _check_size(pipe: Any, size: tuple[int, int]) -> None:
    multiple = pipe.vae_scale_factor
    if size[0] % multiple or size[1] % multiple:
        fixed = (size[0] // multiple * multiple, size[1] // multiple * multiple)
        raise UserError(f"--size {size[0]}x{size[1]} is not a multiple of {multiple} for this model; use --size {fixed[0]}x{fixed[1]}.")


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


def _first_frame(torch: Any, pipe: Any, request: KeyframeRequest, size: tuple[int, int], image: Image.Image | None) -> tuple[np.ndarray, Any]:
    """The photo through the pipeline's own processing, or for text-to-image the starting noise."""
    if image is not None:
        tensor = pipe.image_processor.preprocess(image, height=size[1], width=size[0])
        return pipe.image_processor.postprocess(tensor, output_type="np")[0], None
    channels = pipe.unet.config.in_channels if hasattr(pipe, "unet") else pipe.transformer.config.in_channels
    shape = (1, channels, size[1] // pipe.vae_scale_factor, size[0] // pipe.vae_scale_factor)
    noise = torch.randn(shape, generator=_generator(torch, request.seed), dtype=torch.float32)
    return _decode(pipe, None, noise.to(pipe.device, pipe.dtype)), noise


def _photo(request: KeyframeRequest, size: tuple[int, int]) -> Image.Image | None:
    return None if request.photo is None else Image.fromarray(to_uint8(fit(request.photo.pixels, size)))


def capture_steps(torch: Any, pipe: Any, request: KeyframeRequest, size: tuple[int, int], preview: Any):
    """One run of the pipeline, its steps captured evenly over those it executes."""
    image = _photo(request, size)
    first, noise = _first_frame(torch, pipe, request, size, image)
    frames = [to_uint8(first)]
    infos = [Frame(frame_file(0), "noise" if image is None else "photo")]
    capture = StepCapture(pipe, request.captures, request.capture_mode, lambda latents: _decode(pipe, preview, latents))
    arguments = _common(request, size) | {"num_inference_steps": request.steps, "generator": _generator(torch, request.seed)}
    if image is None:
        arguments["latents"] = noise.to(pipe.device, pipe.dtype)
    else:
        arguments |= {"image": image, "strength": request.strength}
    with capture.installed():
        output = pipe(**arguments, callback_on_step_end=capture, callback_on_step_end_tensor_inputs=["latents"])
    for index, (step, timestep, picture) in enumerate(capture.pictures, start=1):
        frames.append(to_uint8(picture))
        infos.append(Frame(frame_file(index), "step", step, timestep))
    frames.append(to_uint8(output.images[0]))
    infos.append(Frame(frame_file(len(infos)), "final", capture.executed - 1, capture.last_timestep))
    return frames, infos, {"capture_method": "steps"}


def _strength_sweep(torch: Any, pipe: Any, request: KeyframeRequest, size: tuple[int, int]):
    """For few-step models: the same seed at increasing strength, one run per capture."""
    image = _photo(request, size)
    first, _ = _first_frame(torch, pipe, request, size, image)
    frames = [to_uint8(first)]
    infos = [Frame(frame_file(0), "photo")]
    strengths = [request.strength * (i + 1) / request.captures for i in range(request.captures)]
    pipe.set_progress_bar_config(disable=True)
    for index, strength in enumerate(tqdm(strengths, desc="strength sweep", unit="run", disable=request.quiet), start=1):
        steps = max(request.steps, math.ceil(1 / strength))
        output = pipe(**_common(request, size), image=image, strength=strength, num_inference_steps=steps,
                      generator=_generator(torch, request.seed))
        frames.append(to_uint8(output.images[0]))
        infos.append(Frame(frame_file(index), "final" if index == len(strengths) else "step", index - 1, None))
    return frames, infos, {"capture_method": "strength-sweep", "sweep_strengths": [round(s, 6) for s in strengths]}


class StepCapture:
    """The callback and the scheduler wrap that keep pictures of the captured steps.

    Only the steps to capture are decoded; the last step is not (the pipeline's own output is
    the last frame), so capture adds exactly ``captures - 1`` decodes to a run.
    """

    def __init__(self, pipe: Any, captures: int, mode: str, decode: Callable[[Any], np.ndarray]) -> None:
        self.pipe = pipe
        self.captures = captures
        self.mode = mode
        self.decode = decode
        self.pictures: list[tuple[int, int, np.ndarray]] = []
        self.executed = 0
        self.last_timestep: int | None = None
        self._wanted: set[int] | None = None
        self._clean: Any = None

    def __call__(self, pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        if self._wanted is None:
            self.executed = pipe.num_timesteps
            self._wanted = set(capture_indices(self.executed, min(self.captures, self.executed)))
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
            index = getattr(scheduler, "step_index", None)
            result = original(model_output, timestep, sample, *args, **kwargs)
            self._clean = _clean_estimate(scheduler, result, model_output, timestep, sample, index)
            return result

        scheduler.step = step
        try:
            yield
        finally:
            scheduler.step = original


def _clean_estimate(scheduler: Any, result: Any, model_output: Any, timestep: Any, sample: Any, index: int | None) -> Any:
    """x0 from the step's output, or from the model's prediction where the scheduler gives none."""
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
    sigmas = getattr(scheduler, "sigmas", None)
    if sigmas is not None and index is not None:  # flow matching: x_t = (1 - s) x0 + s noise, v = noise - x0
        return sample - sigmas[index].to(sample.device, sample.dtype) * model_output
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
