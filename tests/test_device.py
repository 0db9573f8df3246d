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


SYNTH_ARGS = ["--image", "a.png", "--auto-mask", "--class", "x", "--out", "o"]


@pytest.mark.parametrize("text", ["auto", "cpu", "CUDA", "cuda:1", "mps", " cpu:0 "])
def test_every_device_flag_accepts_what_the_core_accepts(text):
    """One rule (core.choices.device_setting) for choose_device, synth --device and bench --device."""
    from app.synth import build_parser as synth_parser
    from core.choices import device_setting
    from training.bench import build_parser as bench_parser

    wanted = device_setting(text)
    synth = synth_parser().parse_args([*SYNTH_ARGS, "--device", text])
    assert synth.device == wanted
    for what in ("sampler", "pipeline"):
        assert bench_parser().parse_args([what, "--device", text]).device == wanted


@pytest.mark.parametrize("text", ["tpu", "cuda:", "cuda:x", "auto:1", "cuda:1:2", "", "cuda:１"])
def test_every_device_flag_refuses_what_the_core_refuses(text, monkeypatch, capsys):
    from app.synth import build_parser as synth_parser
    from training.bench import build_parser as bench_parser

    monkeypatch.delenv("DEFECTFORGE_DEVICE", raising=False)
    with pytest.raises(DeviceError, match="unknown device"):
        choose_device(text or "tpu")  # "" means "not set" to choose_device: auto
    with pytest.raises(SystemExit):
        synth_parser().parse_args([*SYNTH_ARGS, "--device", text])
    assert "unknown device" in capsys.readouterr().err
    for what in ("sampler", "pipeline"):
        with pytest.raises(SystemExit):
            bench_parser().parse_args([what, "--device", text])
        assert "unknown device" in capsys.readouterr().err


def test_an_indexed_cuda_device_is_chosen_as_typed(monkeypatch):
    monkeypatch.delenv("DEFECTFORGE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device("cuda:1") == torch.device("cuda", 1)
