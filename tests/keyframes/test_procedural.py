"""The procedural trajectory: a real schedule, coarse-to-fine clean estimates, grainy latents."""

from __future__ import annotations

import numpy as np
import pytest

from installation.keyframes import procedural
from installation.keyframes.style import blur


@pytest.mark.parametrize("steps, strength", [(50, 0.75), (20, 0.6), (30, 1.0), (10, 0.05)])
def test_executed_steps_match_diffusers_img2img(steps: int, strength: float) -> None:
    schedulers = pytest.importorskip("diffusers.schedulers")
    scheduler = schedulers.DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        steps_offset=1,
        set_alpha_to_one=False,
        clip_sample=False,
    )
    scheduler.set_timesteps(steps)
    begin = steps - min(int(steps * strength), steps)
    expected = [int(t) for t in scheduler.timesteps[begin:]]
    assert [step.timestep for step in procedural.executed_steps(steps, strength)] == expected
    np.testing.assert_allclose(procedural._alphas_cumprod(), scheduler.alphas_cumprod.numpy(), rtol=1e-5)


def trajectory(small_scene: np.ndarray, target: np.ndarray) -> procedural.ProceduralTrajectory:
    return procedural.ProceduralTrajectory(small_scene, target, procedural.executed_steps(50, 0.75), seed=5)


def collect(run: procedural.ProceduralTrajectory, mode: str) -> list[np.ndarray]:
    pictures: list[np.ndarray] = []
    run.run(mode, set(range(37)), lambda step, picture: pictures.append(picture))
    return pictures


def fine(pixels: np.ndarray) -> np.ndarray:
    return pixels - blur(pixels, 8)


def test_clean_estimates_arrive_coarse_to_fine(small_scene: np.ndarray) -> None:
    target = np.clip(small_scene[::-1] * 0.7 + 0.2, 0, 1)  # a different picture at every scale
    pictures = collect(trajectory(small_scene, target), "x0")
    middle = pictures[len(pictures) // 2]
    coarse_left = np.abs(blur(middle - target, 8)).mean() / np.abs(blur(small_scene - target, 8)).mean()
    fine_left = np.abs(fine(middle) - fine(target)).mean() / np.abs(fine(small_scene) - fine(target)).mean()
    assert coarse_left < 0.5 * fine_left


def test_the_last_step_is_the_target_in_both_modes(small_scene: np.ndarray) -> None:
    target = np.clip(small_scene * 0.5, 0, 1)
    run = trajectory(small_scene, target)
    np.testing.assert_allclose(collect(run, "x0")[-1], target, atol=1e-5)
    np.testing.assert_allclose(collect(run, "latents")[-1], target, atol=1e-4)


def test_latents_are_grainy_and_x0_is_clean(small_scene: np.ndarray) -> None:
    run = trajectory(small_scene, small_scene)
    x0, latents = collect(run, "x0"), collect(run, "latents")
    grain = lambda p: float(np.abs(fine(p)).mean())  # noqa: E731
    assert grain(latents[5]) > 3 * grain(x0[5])
    assert grain(latents[5]) > grain(latents[30])


def test_noise_enters_then_leaves_the_clean_estimates(small_scene: np.ndarray) -> None:
    pictures = collect(trajectory(small_scene, small_scene), "x0")
    grain = [float(np.abs(pictures[i] - small_scene).mean()) for i in range(len(pictures))]
    assert grain[18] > grain[1] > 1e-3 > grain[-1]


def test_from_noise_start_is_noise() -> None:
    noise = procedural.noise_picture((64, 48), seed=1)
    assert noise.shape == (48, 64, 3)
    assert float(np.abs(fine(noise)).mean()) > 0.1
    np.testing.assert_array_equal(noise, procedural.noise_picture((64, 48), seed=1))
    assert not np.array_equal(noise, procedural.noise_picture((64, 48), seed=2))
