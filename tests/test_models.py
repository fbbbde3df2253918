"""Every registered architecture: forward shapes, output semantics, checkpoints, info."""

from __future__ import annotations

import pickle

import pytest
import torch

from edgesal.errors import EdgesalError
from edgesal.model_info import model_info
from edgesal.models import build_model, get_spec, list_models, load_checkpoint, save_checkpoint
from edgesal.models.flops import count_flops


@pytest.mark.parametrize("name", list_models())
def test_forward_shape_and_output_kind(name):
    spec = get_spec(name)
    model = build_model(spec).eval()
    x = torch.randn(2, 3, 64, 96)  # any multiple of 32 works, not only the trained size
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, 1, 64, 96)
    if spec.output_kind == "log_density":
        mass = y.exp().flatten(1).sum(1)
        assert torch.allclose(mass, torch.ones(2), atol=1e-4)
    else:
        assert torch.isfinite(y).all()


def test_readout_center_bias_changes_output():
    model = build_model("uva_tiny_readout").eval()
    x = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        before = model(x).clone()
        prior = torch.zeros(64, 64)
        prior[:, :8] = 1.0  # all prior mass on the left edge
        model.head.set_center_bias(prior)
        after = model(x)
    assert not torch.allclose(before, after)
    assert after[0, 0, :, :8].exp().sum() > before[0, 0, :, :8].exp().sum()


def test_checkpoint_roundtrip(tmp_path):
    spec = get_spec("uva_tiny_readout")
    model = build_model(spec).eval()
    path = save_checkpoint(tmp_path / "m.pt", model, spec, {"note": "test"})
    loaded, spec2, meta = load_checkpoint(path)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert spec2 == spec and meta["note"] == "test" and len(meta["sha256"]) == 64


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_checkpoint_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "edgesal-checkpoint/1", "x": _Evil()}, path)
    with pytest.raises(EdgesalError, match="not a loadable edgesal checkpoint"):
        load_checkpoint(path)
    (tmp_path / "junk.pt").write_bytes(pickle.dumps([1, 2, 3]) + b"junk")
    with pytest.raises(EdgesalError):
        load_checkpoint(tmp_path / "junk.pt")


def test_info_reports_paper_flops():
    facts = model_info("uva_tiny", (64, 64))
    report = count_flops(build_model("uva_tiny"), (1, 3, 64, 64))
    assert facts["flops"] == report.total_flops > 0
    assert facts["params"] == sum(p.numel() for p in build_model("uva_tiny").parameters())
    assert facts["output_kind"] == "sigmoid" and facts["input_hw"] == [64, 64]
    # FLOPs scale with the pixel count (conv-dominated): 2× the pixels, ~2× the FLOPs
    bigger = model_info("uva_tiny", (64, 128))["flops"]
    assert 1.8 < bigger / facts["flops"] < 2.2


def test_unknown_architecture_suggests():
    with pytest.raises(EdgesalError, match="did you mean 'uva_tiny'"):
        get_spec("uva_tinny")


def test_readout_output_stride_is_a_smaller_copy_of_the_full_map():
    import dataclasses

    import torch.nn.functional as F

    from edgesal.metrics import cc

    spec = get_spec("uva_tiny_readout")
    full = build_model(spec).eval()
    strided_spec = dataclasses.replace(spec, head_kwargs={**spec.head_kwargs, "output_stride": 4})
    strided = build_model(strided_spec).eval()
    strided.load_state_dict(full.state_dict())  # same weights: the stride changes no shape
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        small, big = strided(x), full(x)
    assert small.shape == (1, 1, 16, 24)
    assert torch.allclose(small.exp().sum(), torch.ones(()), atol=1e-4)
    up = F.interpolate(small.exp(), size=(64, 96), mode="bilinear", align_corners=False)
    assert cc(up[0, 0].numpy(), big.exp()[0, 0].numpy()) > 0.98
    with pytest.raises(ValueError, match="output_stride"):
        build_model(dataclasses.replace(spec, head_kwargs={"output_stride": 0}))
