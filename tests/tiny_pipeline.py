"""A tiny, randomly initialised Stable Diffusion pipeline, built from configs and saved locally.

No weights can be downloaded here, so the tests (and benchmarks/keyframes.py) build the smallest
pipeline that has every part of a real one, as diffusers' own tests do, and save it with
``save_pretrained`` so the real loading code runs on a local folder. The VAE has 4 blocks (scale
factor 8, as in real SD): with 2, a 512 px run takes minutes. tests/tiny_families.py builds the
other families (SDXL, SD3, turbo) from the same parts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _byte_characters() -> list[str]:
    """GPT-2/CLIP's byte-to-unicode table: every byte as a printable character."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = [byte for byte in range(256) if byte not in printable]
    return [chr(byte) for byte in printable] + [chr(256 + n) for n in range(len(extra))]


def clip_tokenizer(folder: Path) -> Any:
    """A byte-level CLIPTokenizer with no merges: every byte is a token, so any prompt encodes."""
    from transformers import CLIPTokenizer

    characters = _byte_characters()
    vocabulary = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    vocabulary |= {c: i + 2 for i, c in enumerate(characters)}
    vocabulary |= {c + "</w>": i + 2 + len(characters) for i, c in enumerate(characters)}
    words = folder / "tokenizer-source"
    words.mkdir(parents=True, exist_ok=True)
    (words / "vocab.json").write_text(json.dumps(vocabulary))
    (words / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(
        str(words / "vocab.json"), str(words / "merges.txt"), pad_token="<|endoftext|>", model_max_length=77
    )


def clip_config(tokenizer: Any, hidden_size: int = 32) -> Any:
    """The smallest CLIP text encoder config for ``tokenizer`` (diffusers' tests' sizes)."""
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        hidden_size=hidden_size,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=len(tokenizer),
        max_position_embeddings=77,
        projection_dim=32,
    )


def tiny_vae(latent_channels: int = 4, **config: Any) -> Any:
    """A 4-block AutoencoderKL: the scale factor 8 of every real Stable Diffusion VAE."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(32, 32, 64, 64),
        in_channels=3,
        out_channels=3,
        latent_channels=latent_channels,
        sample_size=256,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        **config,
    )


def build_tiny_pipeline(folder: Path, seed: int = 0) -> Path:
    """Write a tiny SD 1.x-style pipeline (256 px native) into ``folder`` and return it."""
    import torch
    from diffusers import DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    torch.manual_seed(seed)
    tokenizer = clip_tokenizer(folder)
    text_encoder = CLIPTextModel(clip_config(tokenizer))
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipeline = StableDiffusionPipeline(
        unet=unet,
        scheduler=scheduler,
        vae=tiny_vae(),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    model = folder / "tiny-sd"
    pipeline.save_pretrained(model, safe_serialization=True)
    return model


def build_tiny_preview_decoder(folder: Path, seed: int = 0, latent_channels: int = 4) -> Path:
    """A tiny AutoencoderTiny (the TAESD architecture; TAESD3's with 16 latent channels) with
    random weights, for --preview-vae."""
    import torch
    from diffusers import AutoencoderTiny

    torch.manual_seed(seed)
    decoder = AutoencoderTiny(
        encoder_block_out_channels=(16, 16, 16, 16),
        decoder_block_out_channels=(16, 16, 16, 16),
        latent_channels=latent_channels,
    )
    path = folder / f"tiny-preview-{latent_channels}"
    decoder.save_pretrained(path, safe_serialization=True)
    return path
