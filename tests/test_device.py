import pytest
import torch

from core.device import DeviceError, choose_device, friendly_oom


def test_environment_beats_setting(monkeypatch):
    monkeypatch.setenv("DEFECTFORGE_DEVICE", "cpu")
    assert choose_device("cuda") == torch.device("cpu")


def test_auto_falls_back_to_cpu_without_cuda(monkeypatch):
    monkeypatch.delenv("DEFECTFORGE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert choose_device("auto").type in ("cpu", "mps")


def test_missing_cuda_is_a_clear_message(monkeypatch):
    monkeypatch.delenv("DEFECTFORGE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="CUDA was requested"):
        choose_device("cuda")
    with pytest.raises(DeviceError, match="unknown device"):
        choose_device("tpu")


def test_out_of_memory_becomes_advice():
    with pytest.raises(DeviceError, match="fewer variants"), friendly_oom(torch.device("cpu")):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
    with pytest.raises(KeyError), friendly_oom(torch.device("cpu")):
        raise KeyError("unrelated")
