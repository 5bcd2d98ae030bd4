"""Every model family the README names (SDXL, SD3, sd-turbo, sdxl-turbo) through the real CLI, on
tiny randomly initialised pipelines (tests/tiny_families.py), and the README's own examples."""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageOps

from installation.cli import main
from installation.keyframes.images import to_uint8
from installation.keyframes.sequence import KeyframeSequence, load_sequence

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("two_threads")]
PROMPT = "pink waves"
SEED = 3
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tests.tiny_families import FAMILIES, build_tiny_family
    from tests.tiny_pipeline import build_tiny_pipeline, build_tiny_preview_decoder

    folder = tmp_path_factory.mktemp("families")
    built = {name: build_tiny_family(name, folder) for name in FAMILIES}
    built["sd"] = build_tiny_pipeline(folder)
    built["preview-4"] = build_tiny_preview_decoder(folder)
    built["preview-16"] = build_tiny_preview_decoder(folder, latent_channels=16)
    return built


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory, small_scene: np.ndarray) -> dict[str, Path]:
    """The alpine scene at 16:9 (256x144) and cut to 4:3 (192x144)."""
    folder = tmp_path_factory.mktemp("photos")
    scene = to_uint8(small_scene)
    paths = {"16:9": folder / "wide.png", "4:3": folder / "four-three.png"}
    Image.fromarray(scene).save(paths["16:9"])
    Image.fromarray(np.ascontiguousarray(scene[:, 32:224])).save(paths["4:3"])
    return paths


def keyframes(capsys, source: Path | None, out: Path, model: Path, *extra: str) -> tuple[int, str]:
    """``metamorph keyframes`` as a user types it; the exit code and what it wrote to stderr."""
    start = [str(source)] if source else ["--from-noise"]
    code = main(
        [
            "keyframes",
            *start,
            "--prompt",
            PROMPT,
            "--model",
            str(model),
            "--out",
            str(out),
            "--quiet",
            "--seed",
            str(SEED),
            *extra,
        ]
    )
    return code, capsys.readouterr().err


@functools.cache
def plain_pipeline(model: Path, from_noise: bool) -> Any:
    auto = diffusers.AutoPipelineForText2Image if from_noise else diffusers.AutoPipelineForImage2Image
    pipe = auto.from_pretrained(str(model), use_safetensors=True)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def plain_run(
    model: Path,
    photo: Path | None,
    size: tuple[int, int],
    steps: int,
    guidance: float,
    strength: float = 0.75,
    **hooks: Any,
) -> np.ndarray:
    """The same request straight through diffusers, with no capture."""
    arguments: dict[str, Any] = {
        "num_inference_steps": steps,
        "guidance_scale": guidance,
        "width": size[0],
        "height": size[1],
    }
    if photo is not None:
        image = ImageOps.fit(Image.open(photo).convert("RGB"), size, Image.Resampling.LANCZOS)  # scaled, centre-cropped
        arguments |= {"image": image, "strength": strength}
    pipe = plain_pipeline(model, photo is None)
    output = pipe(PROMPT, **arguments, generator=torch.Generator("cpu").manual_seed(SEED), output_type="np", **hooks)
    return to_uint8(output.images[0])


def assert_all_distinct(sequence: KeyframeSequence) -> None:
    digests = {frame.tobytes() for frame in sequence.frames}
    assert len(digests) == len(sequence.frames), f"{len(sequence.frames) - len(digests)} repeated frames"


# Image-to-image -----------------------------------------------------------------------------------

NATIVE_SIZES = {  # 128 x 128 pixels' worth at the photo's aspect, in multiples of 8 (16 for SD3)
    ("sdxl", "16:9"): (168, 96),
    ("sdxl", "4:3"): (144, 112),
    ("sd3", "16:9"): (176, 96),
    ("sd3", "4:3"): (144, 112),
}


@pytest.mark.parametrize(("family", "aspect"), sorted(NATIVE_SIZES))
def test_image_to_image_at_the_native_size(capsys, models, photos, tmp_path: Path, family: str, aspect: str) -> None:
    code, err = keyframes(capsys, photos[aspect], tmp_path / "seq", models[family], "--steps", "10", "--captures", "5")
    assert code == 0, err
    sequence = load_sequence(tmp_path / "seq")
    manifest = sequence.manifest
    assert (manifest.width, manifest.height) == NATIVE_SIZES[family, aspect]
    plain = plain_run(models[family], photos[aspect], manifest.size, 10, 7.5)
    executed = plain_pipeline(models[family], False).num_timesteps
    assert manifest.steps_executed == executed == (8 if family == "sd3" else 7)  # SD3 rounds steps x strength up
    assert [f.kind for f in manifest.frames] == ["photo", "step", "step", "step", "step", "final"]
    assert manifest.frames[-1].step == executed - 1
    np.testing.assert_array_equal(sequence.frames[-1], plain)
    assert_all_distinct(sequence)


SWEEPS = {  # family: its own scheduler, the sweep's, --steps, the steps --strength 0.5 runs, the last one's timestep
    "sd-turbo": ("EulerAncestralDiscreteScheduler", "EulerDiscreteScheduler", 2, 1, 499),
    "sdxl-turbo": ("EulerAncestralDiscreteScheduler", "EulerDiscreteScheduler", 2, 1, 499),
    # SD3's schedule ends at sigma_min: of 2 steps, strength 0.5 would run only that one, at almost no noise
    "sd3": ("FlowMatchEulerDiscreteScheduler", "FlowMatchEulerDiscreteScheduler", 4, 2, 8),
}


@pytest.mark.parametrize("family", sorted(SWEEPS))
def test_few_step_image_to_image_sweeps_strength_from_distinct_noise_levels(
    capsys, models, photos, tmp_path: Path, family: str
) -> None:
    scheduler, sweeper, steps, executed, last = SWEEPS[family]
    args = ("--steps", str(steps), "--strength", "0.5", "--guidance", "0")
    code, err = keyframes(capsys, photos["16:9"], tmp_path / "seq", models[family], *args)
    assert code == 0, err
    sequence = load_sequence(tmp_path / "seq")
    manifest = sequence.manifest
    assert len(sequence) == 16 and manifest.options["capture_method"] == "strength-sweep"
    assert (manifest.scheduler, manifest.options["sweep_scheduler"]) == (scheduler, sweeper)
    assert manifest.steps_executed == executed
    timesteps = [f.timestep for f in manifest.frames[1:]]
    assert timesteps[:-1] == sorted(set(timesteps[:-1])) and timesteps[-1] == last  # each from its own noise level
    swept = manifest.options["sweep_timesteps"]
    assert swept[:-1] == timesteps[:-1] and swept[-2] < swept[-1]  # rising to where the final run itself starts
    assert_all_distinct(sequence)
    np.testing.assert_array_equal(
        sequence.frames[-1], plain_run(models[family], photos["16:9"], manifest.size, steps, 0.0, 0.5)
    )


# Text-to-image, capture modes, the preview decoder --------------------------------------------------


@pytest.mark.parametrize(("family", "guidance"), [("sdxl", "7.5"), ("sd3", "7.5"), ("sdxl-turbo", "0")])
def test_text_to_image_ends_on_the_plain_result(capsys, models, tmp_path: Path, family: str, guidance: str) -> None:
    code, err = keyframes(
        capsys, None, tmp_path / "t2i", models[family], "--steps", "4", "--captures", "3", "--guidance", guidance
    )
    assert code == 0, err
    sequence = load_sequence(tmp_path / "t2i")
    assert [f.kind for f in sequence.manifest.frames] == ["noise", "step", "step", "final"]
    assert sequence.manifest.steps_executed == 4 and sequence.frames[0].shape == (128, 128, 3)
    np.testing.assert_array_equal(sequence.frames[-1], plain_run(models[family], None, (128, 128), 4, float(guidance)))
    assert_all_distinct(sequence)


@pytest.mark.parametrize(("family", "preview"), [("sdxl", "preview-4"), ("sd3", "preview-16")])
def test_the_preview_decoder_changes_only_the_steps(
    capsys, models, photos, tmp_path: Path, family: str, preview: str
) -> None:
    args = ("--steps", "8", "--captures", "3", "--guidance", "0")
    sequences = {}
    for name, extra in {"full": (), "preview": ("--preview-vae", str(models[preview]))}.items():
        code, err = keyframes(capsys, photos["4:3"], tmp_path / name, models[family], *args, *extra)
        assert code == 0, err
        sequences[name] = load_sequence(tmp_path / name)
        assert_all_distinct(sequences[name])
    assert sequences["preview"].manifest.options["preview_vae"] == str(models[preview])
    for step in (1, 2):
        assert not np.array_equal(sequences["preview"].frames[step], sequences["full"].frames[step])
    np.testing.assert_array_equal(sequences["preview"].frames[-1], sequences["full"].frames[-1])


# x0 frames are x0 --------------------------------------------------------------------------------


def independent_x0(
    model: Path, photo: Path, size: tuple[int, int], steps: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each step's x_t and clean estimate x0 = x_t - sigma * model output, decoded, from a plain
    run observed only through a hook on the denoiser (no guidance, so one prediction a step).

    The denoiser sees x_t / sqrt(sigma^2 + 1) under Euler schedulers and x_t itself under flow
    matching; for both, x0 = x_t - sigma * prediction (noise for Euler, velocity for flow)."""
    pipe = plain_pipeline(model, False)
    denoiser = getattr(pipe, "unet", None) or pipe.transformer
    flow = not hasattr(pipe.scheduler, "alphas_cumprod")
    seen: list[tuple[Any, Any, Any]] = []

    def hook(module, args, kwargs, output):
        sample = kwargs.get("hidden_states", args[0] if args else None)
        if sample is None:
            sample = kwargs["sample"]
        timestep = kwargs.get("timestep", args[1] if len(args) > 1 else None)
        seen.append((sample, timestep.reshape(-1)[0], output[0]))

    handle = denoiser.register_forward_hook(hook, with_kwargs=True)
    try:
        plain_run(model, photo, size, steps, 0.0, 1.0)
    finally:
        handle.remove()
    scheduler, vae = pipe.scheduler, pipe.vae
    noisy, clean = [], []
    for sample, timestep, prediction in seen:
        sigma = scheduler.sigmas[scheduler.index_for_timestep(timestep)]
        x_t = sample if flow else sample * (sigma**2 + 1).sqrt()
        for latents, into in ((x_t, noisy), (x_t - sigma * prediction, clean)):
            decoded = vae.decode(latents / vae.config.scaling_factor + (vae.config.shift_factor or 0.0)).sample
            into.append(to_uint8(pipe.image_processor.postprocess(decoded.detach(), output_type="np")[0]))
    return noisy, clean


@pytest.mark.parametrize("family", ["sd3", "sdxl", "sd-turbo"])
def test_x0_and_latent_frames_are_those_of_their_steps(capsys, models, photos, tmp_path: Path, family: str) -> None:
    """x0 frames are each step's clean estimate, latent frames the noisy state the step leaves."""
    args = ("--steps", "4", "--strength", "1", "--captures", "4", "--guidance", "0")
    sequences = {}
    for mode in ("x0", "latents"):
        code, err = keyframes(capsys, photos["4:3"], tmp_path / mode, models[family], *args, "--capture", mode)
        assert code == 0, err
        sequences[mode] = load_sequence(tmp_path / mode)
        assert [f.step for f in sequences[mode].manifest.frames[1:]] == [0, 1, 2, 3]
    with torch.inference_mode():
        noisy, clean = independent_x0(models[family], photos["4:3"], sequences["x0"].manifest.size, 4)
    for step in range(3):
        x0, latents = (sequences[mode].frames[step + 1].astype(int) for mode in ("x0", "latents"))
        assert np.abs(x0 - clean[step]).max() <= 2, f"step {step} is not its x0"
        assert np.abs(latents - noisy[step + 1]).max() <= 2, f"step {step} is not the latents it leaves"
    assert np.abs(sequences["x0"].frames[1].astype(int) - noisy[0]).mean() > 10  # step 0's x0 is not its noisy input
    np.testing.assert_array_equal(sequences["x0"].frames[-1], sequences["latents"].frames[-1])


# Refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            ["--scheduler", "euler"],
            "--scheduler euler does not work with {model}, whose scheduler is FlowMatchEulerDiscreteScheduler; leave --scheduler out.",
        ),
        (["--scheduler", "dpm"], "--scheduler dpm does not work with {model}"),
        (["--size", "120x100"], "--size 120x100 is not a multiple of 16 for this model; use --size 112x96."),
    ],
)
def test_sd3_refuses_what_it_cannot_run(
    capsys, models, photos, tmp_path: Path, extra: list[str], expected: str
) -> None:
    code, err = keyframes(capsys, photos["16:9"], tmp_path / "o", models["sd3"], *extra)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert expected.format(model=models["sd3"]) in err


def test_a_scheduler_is_offered_among_those_that_fit(capsys, models, photos, tmp_path: Path) -> None:
    code, err = keyframes(capsys, photos["16:9"], tmp_path / "o", models["sdxl"], "--scheduler", "lcm")
    assert (
        code == 2
        and "whose scheduler is EulerDiscreteScheduler; choose one of ddim, ddpm, pndm, lms, euler, euler-a, heun, dpm, unipc or leave --scheduler out."
        in err
    )


# The README's examples, as written --------------------------------------------------------------


def readme_commands() -> list[str]:
    """The ``metamorph keyframes`` lines of the README's diffusers section."""
    section = README.read_text().split("## The diffusers backend", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    return [
        line.split("#")[0].strip() for line in block.group(1).splitlines() if line.startswith("metamorph keyframes")
    ]


def test_the_readme_examples_run_as_written(
    capsys, caplog, models, photos, tmp_path: Path, isolated_keyframes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Image.open(photos["16:9"]).save(tmp_path / "photo.jpg")
    stand_ins = {
        "stable-diffusion-v1-5/stable-diffusion-v1-5": models["sd"],
        "stabilityai/sd-turbo": models["sd-turbo"],
        "stabilityai/sdxl-turbo": models["sdxl-turbo"],
    }
    commands = readme_commands()
    assert len(commands) == 3
    for command in commands:
        argv = shlex.split(command)[1:]
        argv[argv.index("--model") + 1] = str(stand_ins[argv[argv.index("--model") + 1]])
        assert main(argv) == 0, capsys.readouterr().err
    photo = load_sequence(isolated_keyframes / "photo")
    cubist, turbo = (load_sequence(tmp_path / "keyframes" / name) for name in ("cubist", "photo-turbo"))
    assert len(photo) == 16 and photo.manifest.steps_executed == 37 and photo.manifest.size == (344, 192)
    assert [f.kind for f in cubist.manifest.frames] == ["noise", "step", "step", "step", "final"]
    assert cubist.manifest.options["captures_asked"] == 15
    assert "executes 4 steps from noise, fewer than --captures 15: every step is captured (5 frames)" in caplog.text
    assert len(turbo) == 16 and turbo.manifest.options["capture_method"] == "strength-sweep"
    for sequence in (photo, cubist, turbo):
        assert_all_distinct(sequence)
