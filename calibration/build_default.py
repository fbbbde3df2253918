"""Rebuild ``calibration/default``: 100 crops of public-domain / CC0 photographs.

The source photographs ship inside the scikit-image wheel (``skimage/data``; no download).
Needs ``pip install scikit-image==0.26.0`` (not an edgesal dependency). Deterministic:
the same crops come out on every run. Writes ``default/*.jpg`` and ``manifest.json``.

    python calibration/build_default.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
OUT = HERE / "default"
N_IMAGES = 100
SIZE_WH = (256, 192)  # the students' input size; models resize anyway

# file in skimage/data → (licence, credit), from the scikit-image docstrings of skimage.data
SOURCES = {
    "astronaut.png": ("public domain", "NASA; Eileen Collins"),
    "camera.png": ("CC0", "Lav Varshney"),
    "chelsea.png": ("CC0", "Stefan van der Walt"),
    "coffee.png": ("CC0", "Rachel Michetti, courtesy of Pikolo Espresso Bar"),
    "rocket.jpg": ("public domain", "SpaceX, DSCOVR launch"),
    "hubble_deep_field.jpg": ("public domain", "NASA, Hubble eXtreme Deep Field"),
    "retina.jpg": ("CC0", "Häggström, M., fundus photograph, Wikimedia Commons"),
    "brick.png": ("CC0", "CC0Textures Bricks25"),
    "grass.png": ("CC0", "CC0Textures Grass"),
    "gravel.png": ("CC0", "CC0Textures Gravel04"),
    "text.png": ("public domain", "scikit-image sample 'text'"),
}


def _crop(image: Image.Image, rng: np.random.Generator) -> tuple[Image.Image, list[int], bool]:
    w, h = image.size
    scale = rng.uniform(0.45, 1.0)
    cw = int(min(w, h * 4 / 3) * scale)
    ch = int(cw * 3 / 4)
    x0 = int(rng.integers(0, w - cw + 1))
    y0 = int(rng.integers(0, h - ch + 1))
    flip = bool(rng.random() < 0.5)
    crop = image.crop((x0, y0, x0 + cw, y0 + ch)).resize(SIZE_WH, Image.BILINEAR)
    return (crop.transpose(Image.FLIP_LEFT_RIGHT) if flip else crop), [x0, y0, cw, ch], flip


def main() -> None:
    import skimage

    data_dir = Path(skimage.__file__).parent / "data"
    rng = np.random.default_rng(0)
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.jpg"):
        old.unlink()
    files = []
    names = list(SOURCES)
    for i in range(N_IMAGES):
        source = names[i % len(names)]
        with Image.open(data_dir / source) as im:
            image = im.convert("RGB")
        crop, box, flip = _crop(image, rng)
        name = f"{i:03d}_{Path(source).stem}.jpg"
        crop.save(OUT / name, quality=85)
        licence, credit = SOURCES[source]
        files.append({"file": f"default/{name}", "source": f"scikit-image {skimage.__version__} skimage/data/{source}",
                      "crop_xywh": box, "hflip": flip, "licence": licence, "credit": credit})
    manifest = {
        "name": "edgesal default calibration set",
        "description": f"{N_IMAGES} deterministic crops ({SIZE_WH[0]}x{SIZE_WH[1]}, JPEG q85) of "
                       f"{len(SOURCES)} public-domain / CC0 photographs shipped in the scikit-image wheel",
        "built_by": "calibration/build_default.py",
        "files": files,
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {len(files)} images to {OUT}")


if __name__ == "__main__":
    main()
