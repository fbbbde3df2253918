"""Rebuild the default int8 calibration set shipped in the package (``edgesal/assets/calibration``).

200 images drawn with seed 0 from the OSIE *training* split (never val/test: the parity gate
evaluates on OSIE test), resized to 256×192 (the students' 4:3 input size) and stored as
JPEG q90. OSIE is MIT-licensed (© 2014 NUS VIP), so the images may ship with edgesal; its
LICENSE is copied beside them and every file is listed in ``manifest.json``. Natural photos
like the ones users run the model on give activation ranges that pass the parity gate on
every target, which the earlier generic set (textures, a retina scan, handwriting) did not.

    python calibration/build_default.py          # needs ../shared/data/osie (or EDGESAL_DATA_OSIE)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from edgesal.data import open_dataset
from edgesal.export.calibration import DEFAULT_DIR

N_IMAGES = 200
SIZE_WH = (256, 192)
SEED = 0


def main() -> None:
    dataset = open_dataset("osie", split="train")
    stems = dataset.stems()
    chosen = sorted(np.random.default_rng(SEED).choice(len(stems), size=N_IMAGES, replace=False))
    if DEFAULT_DIR.exists():
        shutil.rmtree(DEFAULT_DIR)
    (DEFAULT_DIR / "images").mkdir(parents=True)
    files = []
    for i in chosen:
        source = Path(dataset.image_path(stems[i]))
        with Image.open(source) as im:
            small = im.convert("RGB").resize(SIZE_WH, Image.BILINEAR)
        name = f"osie_{stems[i]}.jpg"
        small.save(DEFAULT_DIR / "images" / name, quality=90)
        files.append({"file": f"images/{name}", "source": f"OSIE data/stimuli/{source.name}", "split": "train"})
    shutil.copyfile(source.parents[2] / "LICENSE", DEFAULT_DIR / "LICENSE")
    manifest = {
        "name": "edgesal default calibration set",
        "description": f"{N_IMAGES} OSIE training images (seed {SEED}), resized to {SIZE_WH[0]}x{SIZE_WH[1]}, "
                       "JPEG q90",
        "licence": "MIT (c) 2014 NUS VIP - Visual Information Processing Lab; see LICENSE",
        "built_by": "calibration/build_default.py",
        "files": files,
    }
    (DEFAULT_DIR / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {len(files)} images to {DEFAULT_DIR}")


if __name__ == "__main__":
    main()
