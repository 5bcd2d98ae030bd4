"""Fixtures of the diffusers tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def two_threads() -> Iterator[None]:
    """Bit-identical CPU results need one thread count (torch is imported only where it is used)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)
