"""Instruction counts → estimated milliseconds on a named core, through a reference model.

    ms(model, core) = ref_ms(core) × count(model, core) / count(reference, core)

i.e. the model is assumed to retire instructions at the rate the reference model does on that
core (same instructions per cycle, same clock). The reference is a MobileNetV2 int8 TFLite
(the Coral ``mobilenet_v2_1.0_224_quant.tflite``), counted under the same core profile, with
a published single-inference CPU latency per core (:data:`REFERENCES`, or ``--ref-ms``).
Where no latency is known the break-even reference latency is still exact: the model reaches
the target FPS on any core that runs the reference in at most
``1000 / fps × count(reference) / count(model)`` ms.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgesal.errors import EdgesalError

REFERENCE_FILE = ("weights", "mobilenet_v2_coral", "mobilenet_v2_1.0_224_quant.tflite")


@dataclass(frozen=True)
class Reference:
    """A published latency of the reference model on one core."""

    ms: float
    source: str
    conditions: str


#: published CPU latencies of MobileNetV2 1.0/224 uint8 (TFLite) per core; see docs/device.md.
#: Only cores with a citable figure are listed; measure the reference once on a board and pass
#: ``--ref-ms CORE=MS`` for the others (or to replace these, whose conditions are looser).
REFERENCES: dict[str, Reference] = {
    "a53": Reference(150.0, "Coral Edge TPU benchmarks / FAQ table, 'Embedded CPU' column, MobileNet v2 "
                     "(coral.ai/docs/edgetpu/benchmarks; table as quoted in github.com/freedomtan/"
                     "edge_tpu_python_scripts)",
                     "TFLite quantised model on the i.MX 8M's quad Cortex-A53 @ 1.5 GHz, 2019 TFLite, "
                     "thread count not stated"),
}


def parse_ref_ms(values: list[str], cores: list[str]) -> dict[str, Reference]:
    """``CORE=MS`` options → references (user-measured: they replace the published ones)."""
    out = {}
    for value in values:
        core, sep, ms = value.partition("=")
        core = core.strip().lower().removeprefix("cortex-")
        try:
            latency = float(ms)
        except ValueError:
            latency = -1.0
        if not sep or core not in cores or latency <= 0:
            raise EdgesalError(f"--ref-ms takes CORE=MS with CORE in {', '.join(cores)} and MS > 0 (got {value!r})")
        out[core] = Reference(latency, "--ref-ms (user supplied)", "as measured by the user")
    return out


def estimate_ms(count: float, ref_count: float, ref_ms: float) -> float:
    """The model's latency if it runs at the reference's instructions per millisecond."""
    if count <= 0 or ref_count <= 0 or ref_ms <= 0:
        raise ValueError("counts and the reference latency must be positive")
    return ref_ms * count / ref_count


def break_even_ref_ms(count: float, ref_count: float, target_fps: float) -> float:
    """The reference latency at which the model runs at exactly ``target_fps``."""
    if count <= 0 or ref_count <= 0 or target_fps <= 0:
        raise ValueError("counts and the target FPS must be positive")
    return 1000.0 / target_fps * ref_count / count


def verdict(ms: float | None, target_fps: float) -> str:
    """``pass`` when 1000 / ms reaches the target, ``fail`` otherwise, ``unknown`` without ms."""
    if ms is None:
        return "unknown"
    return "pass" if 1000.0 / ms >= target_fps else "fail"


def estimate_rows(counts: list[dict], reference_label: str, references: dict[str, Reference],
                  target_fps: float) -> list[dict]:
    """Per (model, core): count, × reference, estimated ms and FPS, break-even, verdict."""
    ref_counts = {c["core"]: c["per_inference"] for c in counts if c["label"] == reference_label}
    rows = []
    for c in counts:
        ref_count = ref_counts.get(c["core"])
        if ref_count is None:
            raise EdgesalError(f"no reference count for core {c['core']}")
        ref = references.get(c["core"])
        ms = estimate_ms(c["per_inference"], ref_count, ref.ms) if ref else None
        rows.append({**c, "x_reference": c["per_inference"] / ref_count, "ref_ms": ref.ms if ref else None,
                     "estimated_ms": ms, "estimated_fps": 1000.0 / ms if ms else None,
                     "break_even_ref_ms": break_even_ref_ms(c["per_inference"], ref_count, target_fps),
                     "verdict": verdict(ms, target_fps)})
    return rows
