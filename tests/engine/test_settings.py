"""Device choice and settings from the environment."""

import pytest
import torch
from rftoy.engine.device import resolve_device
from rftoy.settings import Settings


def test_auto_picks_cuda_only_when_torch_sees_a_gpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu").type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_cuda_without_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_settings_come_from_rftoy_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RFTOY_PORT", "9123")
    monkeypatch.setenv("RFTOY_MAX_POINTS", "100")
    settings = Settings()
    assert settings.port == 9123 and settings.max_points == 100
    monkeypatch.setenv("RFTOY_DEVICE", "tpu")
    with pytest.raises(ValueError):
        Settings()
