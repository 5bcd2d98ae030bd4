"""The diffusers backend on a tiny randomly initialised Stable Diffusion pipeline, via the real CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.cli import main
from installation.keyframes.images import to_uint8
from installation.keyframes.sequence import load_sequence
from tests.helpers import metamorph

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("two_threads")]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tests.tiny_pipeline import build_tiny_pipeline, build_tiny_preview_decoder

    folder = tmp_path_factory.mktemp("models")
    return {"model": build_tiny_pipeline(folder), "preview": build_tiny_preview_decoder(folder)}


def keyframes(capsys, photo: Path | None, out: Path, model: Path, *extra: str) -> int:
    source = [str(photo)] if photo else ["--from-noise"]
    code = main(
        [
            "keyframes",
            *source,
            "--prompt",
            "pink waves",
            "--model",
            str(model),
            "--out",
            str(out),
            "--quiet",
            "--seed",
            "3",
            *extra,
        ]
    )
    capsys.readouterr()
    return code


def plain_run(
    model: Path, photo: Path, size: tuple[int, int], steps: int, strength: float, guidance: float = 7.5
) -> np.ndarray:
    """The same request straight through diffusers, with no capture."""
    pipe = diffusers.AutoPipelineForImage2Image.from_pretrained(str(model), use_safetensors=True)
    pipe.set_progress_bar_config(disable=True)
    image = Image.open(photo).convert("RGB").resize(size, Image.Resampling.LANCZOS)
    output = pipe(
        "pink waves",
        image=image,
        strength=strength,
        num_inference_steps=steps,
        guidance_scale=guidance,
        width=size[0],
        height=size[1],
        generator=torch.Generator("cpu").manual_seed(3),
        output_type="np",
    )
    return to_uint8(output.images[0])


@pytest.fixture
def square_photo(tmp_path: Path, small_scene: np.ndarray) -> Path:
    path = tmp_path / "alps.png"
    Image.fromarray(to_uint8(small_scene)).resize((256, 256)).save(path)
    return path


def test_fifteen_captures_and_the_untouched_result(capsys, tiny, square_photo: Path, tmp_path: Path) -> None:
    out = tmp_path / "seq"
    assert keyframes(capsys, square_photo, out, tiny["model"], "--steps", "20", "--size", "256x256") == 0
    sequence = load_sequence(out)
    manifest = sequence.manifest
    assert len(sequence) == 16 and sequence.frames[0].shape == (256, 256, 3)
    assert manifest.backend == "diffusers" and manifest.steps_executed == 15
    assert [f.step for f in manifest.frames[1:]] == list(range(15))
    assert manifest.frames[1].timestep == 701 and manifest.scheduler == "DDIMScheduler"
    assert manifest.options["capture_method"] == "steps"
    np.testing.assert_array_equal(sequence.frames[-1], plain_run(tiny["model"], square_photo, (256, 256), 20, 0.75))
    photo = np.asarray(Image.open(square_photo).convert("RGB")).astype(int)
    assert np.abs(sequence.frames[0].astype(int) - photo).max() <= 1  # the photo through the pipeline's processing


def test_same_seed_same_bytes(capsys, tiny, square_photo: Path, tmp_path: Path) -> None:
    args = ("--steps", "10", "--captures", "3", "--size", "128x128")
    assert keyframes(capsys, square_photo, tmp_path / "a", tiny["model"], *args) == 0
    assert keyframes(capsys, square_photo, tmp_path / "b", tiny["model"], *args) == 0
    for index in range(4):
        name = f"{index:03d}.png"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_latent_capture_is_noisier_and_ends_the_same(capsys, tiny, square_photo: Path, tmp_path: Path) -> None:
    args = ("--steps", "20", "--captures", "5", "--size", "128x128")
    assert keyframes(capsys, square_photo, tmp_path / "x0", tiny["model"], *args) == 0
    assert keyframes(capsys, square_photo, tmp_path / "lat", tiny["model"], *args, "--capture", "latents") == 0
    x0, latents = load_sequence(tmp_path / "x0"), load_sequence(tmp_path / "lat")
    assert latents.manifest.capture_mode == "latents"
    assert not np.array_equal(x0.frames[2], latents.frames[2])
    np.testing.assert_array_equal(x0.frames[-1], latents.frames[-1])


def test_text_to_image_starts_from_noise(capsys, tiny, tmp_path: Path) -> None:
    assert (
        keyframes(capsys, None, tmp_path / "t2i", tiny["model"], "--steps", "8", "--captures", "4", "--size", "128x96")
        == 0
    )
    sequence = load_sequence(tmp_path / "t2i")
    assert [f.kind for f in sequence.manifest.frames] == ["noise", "step", "step", "step", "final"]
    assert sequence.manifest.options["pipeline"] == "StableDiffusionPipeline"
    assert sequence.frames[0].shape == (96, 128, 3) and sequence.manifest.source is None


def test_few_step_models_are_captured_by_a_strength_sweep(capsys, tiny, square_photo: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    assert (
        keyframes(
            capsys,
            square_photo,
            out,
            tiny["model"],
            "--steps",
            "4",
            "--strength",
            "0.5",
            "--captures",
            "4",
            "--size",
            "128x128",
        )
        == 0
    )
    sequence = load_sequence(out)
    options = sequence.manifest.options
    assert options["capture_method"] == "strength-sweep" and sequence.manifest.steps_executed == 2
    # DDIM's leading spacing puts 4 steps at 751, 501, 251, 1: strength 0.5 runs the last two, from 251
    assert options["sweep_strengths"] == [0.063, 0.126, 0.189, 0.252]
    assert options["sweep_timesteps"] == [62, 125, 188, 251]
    assert options["sweep_scheduler"] == "EulerDiscreteScheduler"  # DDIM takes no explicit timestep
    assert [f.timestep for f in sequence.manifest.frames[1:-1]] == [62, 125, 188]  # each run from its own noise level
    assert len(sequence) == 5 and len({frame.tobytes() for frame in sequence.frames}) == 5
    np.testing.assert_array_equal(sequence.frames[-1], plain_run(tiny["model"], square_photo, (128, 128), 4, 0.5))


@pytest.fixture(scope="module")
def turbo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_families import build_tiny_family

    return build_tiny_family("sd-turbo", tmp_path_factory.mktemp("turbo"))


def test_a_sweep_rises_to_the_final_runs_own_noise_level(
    capsys, turbo: Path, square_photo: Path, tmp_path: Path
) -> None:
    """--steps 2 at strength 0.75 executes int(1.5) = 1 step, from 499 of turbo's trailing 999, 499:
    the noise of strength 0.5. The sweep climbs to that level, so the frames never get noisier than
    the final one they end on."""
    args = ("--steps", "2", "--strength", "0.75", "--captures", "4", "--guidance", "0", "--size", "128x128")
    assert keyframes(capsys, square_photo, tmp_path / "sweep", turbo, *args) == 0
    sequence = load_sequence(tmp_path / "sweep")
    options, frames = sequence.manifest.options, sequence.manifest.frames
    assert options["capture_method"] == "strength-sweep" and sequence.manifest.steps_executed == 1
    assert options["sweep_strengths"] == [0.125, 0.25, 0.375, 0.5]
    assert options["sweep_timesteps"] == [124, 249, 374, 499]
    assert [f.timestep for f in frames[1:]] == [124, 249, 374, 499]  # rising, and the final's own level last
    assert len({frame.tobytes() for frame in sequence.frames}) == 5
    final = sequence.frames[-1]
    np.testing.assert_array_equal(final, plain_run(turbo, square_photo, (128, 128), 2, 0.75, guidance=0.0))
    np.testing.assert_array_equal(final, plain_run(turbo, square_photo, (128, 128), 2, 0.5, guidance=0.0))


def test_preview_decoder_changes_only_the_intermediate_frames(capsys, tiny, square_photo: Path, tmp_path: Path) -> None:
    args = ("--steps", "10", "--captures", "3", "--size", "128x128")
    assert keyframes(capsys, square_photo, tmp_path / "full", tiny["model"], *args) == 0
    assert (
        keyframes(
            capsys, square_photo, tmp_path / "preview", tiny["model"], *args, "--preview-vae", str(tiny["preview"])
        )
        == 0
    )
    full, preview = load_sequence(tmp_path / "full"), load_sequence(tmp_path / "preview")
    assert preview.manifest.options["preview_vae"] == str(tiny["preview"])
    assert not np.array_equal(full.frames[1], preview.frames[1])
    np.testing.assert_array_equal(full.frames[-1], preview.frames[-1])


def test_the_default_size_keeps_the_aspect_at_native_resolution(capsys, tiny, photo_file: Path, tmp_path: Path) -> None:
    assert keyframes(capsys, photo_file, tmp_path / "native", tiny["model"], "--steps", "4", "--captures", "2") == 0
    manifest = json.loads((tmp_path / "native" / "manifest.json").read_text())
    assert (manifest["width"], manifest["height"]) == (344, 192)  # 256 x 256 pixels' worth at 16:9


BAD = {
    "no step": (
        ["--steps", "3", "--strength", "0.2"],
        "executes no denoising step (int(steps x strength) is 0); raise --steps or --strength.",
    ),
    "sweep below its captures": (
        ["--steps", "2", "--strength", "0.5", "--captures", "4"],
        "from timestep 1 of 1000 only (1 of its 2 steps), too little noise for --captures 4 distinct frames; "
        "raise --steps or --strength, or lower --captures.",
    ),
    "scheduler": (["--scheduler", "warp"], "--scheduler warp is unknown; choose one of ddim, ddpm"),
    "size": (["--size", "100x100"], "--size 100x100 is not a multiple of 8 for this model; use --size 96x96."),
    "device": (["--device", "cuda"], "--device cuda was asked for but torch"),
    "dtype": (["--dtype", "fp16", "--device", "cpu"], "--dtype fp16 is not supported on the CPU"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_arguments(capsys, tiny, square_photo: Path, tmp_path: Path, case: str) -> None:
    if case == "device" and torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    extra, expected = BAD[case]
    code = main(
        [
            "keyframes",
            str(square_photo),
            "--prompt",
            "pink",
            "--model",
            str(tiny["model"]),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
            *extra,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and expected in err and err.count("\n") == 1


def test_a_folder_that_is_not_a_model(capsys, square_photo: Path, tmp_path: Path) -> None:
    code = main(
        ["keyframes", str(square_photo), "--prompt", "pink", "--model", str(tmp_path), "--out", str(tmp_path / "o")]
    )
    assert code == 2 and "holds no model_index.json" in capsys.readouterr().err


@pytest.mark.parametrize("offline", ["1", None])
def test_a_model_neither_cached_nor_reachable(square_photo: Path, tmp_path: Path, offline: str | None) -> None:
    result = metamorph(
        "keyframes",
        str(square_photo),
        "--prompt",
        "pink",
        "--model",
        "someone/not-a-cached-model",
        "--out",
        str(tmp_path / "o"),
        env={"HF_HUB_OFFLINE": offline, "HF_HOME": str(tmp_path / "hf")},
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "The model someone/not-a-cached-model is not in the local cache and cannot be downloaded (" in result.stderr
    assert "--backend procedural to work without weights." in result.stderr
    assert ("HF_HUB_OFFLINE is set" in result.stderr) == (offline == "1")


def test_a_gated_model_says_accept_and_log_in() -> None:
    from huggingface_hub.errors import GatedRepoError

    from installation.keyframes.diffusion import _loading_error

    gated = GatedRepoError.__new__(GatedRepoError)  # as raised by the hub client, without an HTTP response
    Exception.__init__(gated, "401 Client Error: access to model org/gated-model is restricted")
    error = OSError("cannot load")
    error.__cause__ = gated
    message = str(_loading_error("org/gated-model", error))
    assert "is gated; accept its licence on its Hugging Face page and log in" in message


def test_without_the_diffusion_extra(square_photo: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "blocked"
    (blocker / "torch").mkdir(parents=True)
    (blocker / "torch" / "__init__.py").write_text("raise ImportError(\"No module named 'torch'\")\n")
    result = metamorph(
        "keyframes",
        str(square_photo),
        "--prompt",
        "pink",
        "--model",
        "any/model",
        "--out",
        str(tmp_path / "o"),
        env={"PYTHONPATH": str(blocker)},
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        "needs the `diffusion` extra (No module named 'torch'); pip install 'diffusive-metamorphosis[diffusion]'"
        in result.stderr
    )


def test_a_folder_with_only_pickle_weights_says_so(capsys, tiny, square_photo: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    model = tmp_path / "pickled"
    shutil.copytree(tiny["model"], model)
    for part in ("unet", "vae"):
        weights = model / part / "diffusion_pytorch_model.safetensors"
        torch.save(
            load_file(weights), weights.with_suffix(".bin")
        )  # what save_pretrained(safe_serialization=False) writes
        weights.unlink()
    code = main(
        [
            "keyframes",
            str(square_photo),
            "--prompt",
            "pink",
            "--model",
            str(model),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "offline" not in err
    assert (
        f"The model {model} has only pickle weights (.bin, .pt or .ckpt) for unet, vae, never loaded since pickle can "
        "run code; convert them to safetensors (load with diffusers, then save_pretrained) or give a model that ships "
        ".safetensors files."
    ) in err


def test_a_model_folder_missing_a_part_says_what_is_wrong(capsys, tiny, square_photo: Path, tmp_path: Path) -> None:
    model = tmp_path / "incomplete"
    shutil.copytree(tiny["model"], model)
    shutil.rmtree(model / "vae")
    code = main(
        [
            "keyframes",
            str(square_photo),
            "--prompt",
            "pink",
            "--model",
            str(model),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "offline" not in err
    assert f"The model folder {model} cannot be loaded (" in err
    assert "); give a complete diffusers folder (save_pretrained, with .safetensors weights) or a hub id." in err
