"""Shared fixtures: a small synthetic generic-format dataset (see shared_paths.py for ../shared)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# as the CLI does (edgesal/cli/main.py): no OpenMP busy-waiting, the xdist workers share 2 cores
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def make_blob_dataset(root: Path, n: int = 16, size_hw: tuple[int, int] = (48, 64), seed: int = 0) -> Path:
    """Generic-format dataset: noisy images with one bright square that observers fixate."""
    rng = np.random.default_rng(seed)
    (root / "stimuli").mkdir(parents=True, exist_ok=True)
    h, w = size_hw
    rows = []
    for i in range(n):
        img = (rng.random((h, w, 3)) * 80).astype(np.uint8)
        cy, cx = rng.integers(8, h - 8), rng.integers(8, w - 8)
        img[cy - 5:cy + 5, cx - 5:cx + 5] = [250, 240, 60]
        Image.fromarray(img).save(root / "stimuli" / f"img{i:02d}.png")
        for obs in range(3):
            for _ in range(4):
                rows.append([f"img{i:02d}", f"s{obs}", cx + rng.normal(0, 2), cy + rng.normal(0, 2)])
    with (root / "fixations.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["stem", "observer", "x", "y"])
        writer.writerows(rows)
    return root


@pytest.fixture(scope="session")
def blob_dataset(tmp_path_factory) -> Path:
    return make_blob_dataset(tmp_path_factory.mktemp("blobs"))


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory) -> Path:
    """A seeded, untrained ``uva_tiny_readout`` checkpoint (fast to load and run)."""
    import torch

    from edgesal.models import build_model, get_spec, save_checkpoint

    spec = get_spec("uva_tiny_readout")
    torch.manual_seed(0)
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", build_model(spec), spec)


@pytest.fixture
def world(tmp_path, tiny_ckpt, blob_dataset):
    """The bad-input suite's folder of good inputs (tests/bad_input.py ``build_world``)."""
    from bad_input import build_world

    return build_world(tmp_path / "w", tiny_ckpt, blob_dataset)


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory) -> Path:
    """The tiny demo model exported to ONNX (sidecar + .ref.npz) by the real export pipeline."""
    from edgesal.bench.demo import pytest_demo_dir, tiny_artefacts

    paths = tiny_artefacts(pytest_demo_dir(tmp_path_factory), targets=("onnx",))
    if not paths:
        pytest.skip("the ONNX exporter (onnxscript) is not installed")
    return paths[0]
