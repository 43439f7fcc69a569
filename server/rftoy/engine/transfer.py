"""Moving tensors between the host and the training device without stalling a GPU.

A copy from ordinary (pageable) host memory to a GPU waits for the device to finish its queued work; one from
pinned memory does not. Both helpers are plain copies on the CPU.
"""

from __future__ import annotations

import numpy as np
import torch


def to_device(tensor: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """`tensor` on `device`; host tensors go to a GPU through pinned memory, asynchronously."""
    device = torch.device(device)
    if device.type != "cuda" or tensor.device.type != "cpu":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def to_host(tensors: list[torch.Tensor]) -> list[np.ndarray]:
    """The tensors as host arrays: from a GPU through pinned buffers, copied asynchronously with one wait for all."""
    if tensors[0].device.type == "cpu":  # no tensor op at all: each would let go of the GIL and wait to get it back
        return [t.detach().numpy() if t.requires_grad else t.numpy() for t in tensors]
    if tensors[0].device.type != "cuda":
        return [t.detach().cpu().numpy() for t in tensors]
    host = [torch.empty(t.shape, dtype=t.dtype, pin_memory=True) for t in tensors]
    for buffer, tensor in zip(host, tensors, strict=True):
        buffer.copy_(tensor, non_blocking=True)
    torch.cuda.current_stream(tensors[0].device).synchronize()
    return [buffer.numpy() for buffer in host]
