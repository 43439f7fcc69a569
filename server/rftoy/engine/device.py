"""Which torch device a session trains on."""

from __future__ import annotations

import torch


def resolve_device(choice: str) -> torch.device:
    """Map 'auto' to CUDA when present, else CPU; refuse 'cuda' without a GPU."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for but torch sees no CUDA GPU")
    return torch.device(choice)
