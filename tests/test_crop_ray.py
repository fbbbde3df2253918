"""`edgesal.cropping.distributed` on a local Ray instance (``ray.init(num_cpus=1)``): the same crops and
crops.json as a local `edgesal crop` run. Ray is an optional extra (≈ 500 MB with pyarrow and pandas),
in ``dev`` (CI runs it); a plain install without the extra skips it (``pip install "edgesal[ray]"``)."""

from __future__ import annotations

import json

import pytest

from edgesal.cropping.distributed import crop_paths_ray
from edgesal.cropping.run import crop_paths

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray", reason='Ray is an optional extra: pip install "edgesal[ray]"')


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


def test_ray_crops_match_a_local_run(local_ray, blob_dataset, tiny_ckpt, tmp_path):
    from PIL import Image

    images = blob_dataset / "stimuli"
    local = crop_paths(images, tmp_path / "local", ["1:1", "9:16"], model=str(tiny_ckpt), progress=False)
    remote = crop_paths_ray(images, tmp_path / "ray", ["1:1", "9:16"], model=str(tiny_ckpt), concurrency=1)
    assert json.loads((tmp_path / "ray" / "crops.json").read_text()) == local.records
    assert len(local.records) == 32 and not remote.skipped
    for path in local.written:
        twin = tmp_path / "ray" / path.relative_to(tmp_path / "local")
        assert Image.open(twin).tobytes() == Image.open(path).tobytes()


def test_ray_skips_unreadable_images(local_ray, tiny_ckpt, tmp_path):
    from bad_input import make_image

    for i in range(2):
        make_image(tmp_path / "imgs" / f"im{i}.png", seed=i)
    (tmp_path / "imgs" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    run = crop_paths_ray(tmp_path / "imgs", tmp_path / "out", ["4:5"], model=str(tiny_ckpt))
    assert [p.name for p, _ in run.skipped] == ["broken.jpg"]
    records = json.loads((tmp_path / "out" / "crops.json").read_text())
    assert [r["image"] for r in records] == ["im0.png", "im1.png"]
