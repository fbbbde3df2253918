"""ARM vs x86 parity of exported artefacts: the same reference inputs run on this CPU and
on an aarch64 device (default: qemu-aarch64 emulation), outputs compared map by map.

    python benchmarks/arm_parity.py runs/export_default/default_int8.tflite [--device qemu-aarch64]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from edgesal.bench.artefact import resolve_artefact
from edgesal.bench.devices import open_device
from edgesal.export.parity import to_saliency
from edgesal.metrics import cc


def arm_vs_x86(artefact_path: str, device: str = "qemu-aarch64") -> dict:
    """Per-image CC between the local (x86) and the device's output maps."""
    artefact = resolve_artefact(artefact_path)
    inputs, _, kind = artefact.load_reference()
    local = open_device("local").outputs(artefact, inputs)
    remote = open_device(device).outputs(artefact, inputs)
    ccs = [cc(to_saliency(a, kind), to_saliency(b, kind)) for a, b in zip(local, remote, strict=True)]
    return {"artefact": artefact_path, "device": device, "images": len(ccs), "cc_min": float(np.min(ccs)),
            "cc_mean": float(np.mean(ccs)), "max_abs_diff": float(np.abs(local - remote).max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("artefacts", nargs="+")
    parser.add_argument("--device", default="qemu-aarch64")
    args = parser.parse_args()
    for path in args.artefacts:
        print(json.dumps(arm_vs_x86(path, args.device)))


if __name__ == "__main__":
    main()
