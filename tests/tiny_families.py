"""Tiny, randomly initialised pipelines of the other model families the README names.

Built as tests/tiny_pipeline.py builds the SD 1.x one (configs, byte-level CLIP tokenizers,
``save_pretrained``), with the sizes of diffusers' own tests (``get_dummy_components``), at a
native 128 px so that a whole CLI run takes a second or two on a CPU:

* ``sdxl``: two CLIP encoders (the second with projection), a ``text_time`` UNet, Euler;
* ``sd3``: SD3Transformer2DModel (patch size 2, so sizes are multiples of 16, as in real SD3),
  two CLIP encoders with projection and a tiny T5 whose tokenizer is a unigram vocabulary (no
  sentencepiece), flow matching (FlowMatchEulerDiscreteScheduler, shift 3);
* ``sd-turbo`` (SD 2.x architecture) and ``sdxl-turbo``: EulerAncestral with trailing spacing,
  as the real turbo models ship.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.tiny_pipeline import clip_config, clip_tokenizer, tiny_vae

NATIVE_LATENT = 16
"""The denoiser's sample size: 16 latent pixels, 128 image pixels."""
SDXL_POOLED = 32
SDXL_TIME_IDS = 6
"""SDXL conditions on 6 size numbers (original size, crop corner, target size) of 8 features each."""


def _euler(diffusers: Any, ancestral: bool) -> Any:
    """SDXL's Euler (leading spacing), or the turbo models' EulerAncestral (trailing spacing)."""
    if ancestral:
        scheduler = diffusers.EulerAncestralDiscreteScheduler
        spacing = "trailing"
    else:
        scheduler, spacing = diffusers.EulerDiscreteScheduler, "leading"
    return scheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1, timestep_spacing=spacing
    )


def _sd2_unet(diffusers: Any, cross_attention_dim: int, **config: Any) -> Any:
    """The SD 2.x / SDXL UNet layout (linear projections, head dims per block) at its smallest."""
    return diffusers.UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=NATIVE_LATENT,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        cross_attention_dim=cross_attention_dim,
        **config,
    )


def _sdxl(folder: Path, ancestral: bool) -> Any:
    import diffusers
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    tokenizer = clip_tokenizer(folder)
    unet = _sd2_unet(
        diffusers,
        cross_attention_dim=64,  # the two encoders' hidden states side by side
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 2),
        projection_class_embeddings_input_dim=SDXL_TIME_IDS * 8 + SDXL_POOLED,
    )
    return diffusers.StableDiffusionXLPipeline(
        vae=tiny_vae(),
        text_encoder=CLIPTextModel(clip_config(tokenizer)),
        text_encoder_2=CLIPTextModelWithProjection(clip_config(tokenizer)),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=_euler(diffusers, ancestral),
    )


def _sd_turbo(folder: Path) -> Any:
    import diffusers
    from transformers import CLIPTextModel

    tokenizer = clip_tokenizer(folder)
    return diffusers.StableDiffusionPipeline(
        vae=tiny_vae(),
        text_encoder=CLIPTextModel(clip_config(tokenizer)),
        tokenizer=tokenizer,
        unet=_sd2_unet(diffusers, cross_attention_dim=32),
        scheduler=_euler(diffusers, ancestral=True),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def t5_tokenizer() -> Any:
    """A T5 tokenizer from a unigram vocabulary of the printable ASCII characters: no sentencepiece."""
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -1.0)]
    pieces += [(chr(code), -2.0) for code in range(ord("!"), ord("~") + 1)]
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def _sd3(folder: Path) -> Any:
    import diffusers
    from transformers import CLIPTextModelWithProjection, T5Config, T5EncoderModel

    tokenizer, tokenizer_3 = clip_tokenizer(folder), t5_tokenizer()
    t5 = T5Config(vocab_size=len(tokenizer_3), d_model=32, d_ff=37, d_kv=8, num_layers=2, num_heads=4)
    transformer = diffusers.SD3Transformer2DModel(
        sample_size=NATIVE_LATENT,
        patch_size=2,
        in_channels=16,
        num_layers=1,
        attention_head_dim=8,
        num_attention_heads=4,
        joint_attention_dim=32,
        caption_projection_dim=32,
        pooled_projection_dim=64,  # the two CLIP projections side by side
        out_channels=16,
    )
    return diffusers.StableDiffusion3Pipeline(
        transformer=transformer,
        scheduler=diffusers.FlowMatchEulerDiscreteScheduler(shift=3.0),
        vae=tiny_vae(16, use_quant_conv=False, use_post_quant_conv=False, shift_factor=0.0609, scaling_factor=1.5035),
        text_encoder=CLIPTextModelWithProjection(clip_config(tokenizer)),
        text_encoder_2=CLIPTextModelWithProjection(clip_config(tokenizer)),
        text_encoder_3=T5EncoderModel(t5),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        tokenizer_3=tokenizer_3,
    )


FAMILIES: dict[str, Callable[[Path], Any]] = {
    "sdxl": lambda folder: _sdxl(folder, ancestral=False),
    "sd3": _sd3,
    "sd-turbo": _sd_turbo,
    "sdxl-turbo": lambda folder: _sdxl(folder, ancestral=True),
}


def build_tiny_family(name: str, folder: Path, seed: int = 0) -> Path:
    """Write the tiny pipeline of family ``name`` (a key of FAMILIES) into ``folder`` and return it."""
    import torch

    torch.manual_seed(seed)
    model = folder / f"tiny-{name}"
    FAMILIES[name](folder / name).save_pretrained(model, safe_serialization=True)
    return model
