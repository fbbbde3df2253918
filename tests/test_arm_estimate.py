"""ARM estimate without a board: the instruction-count plugin under qemu-user (counts are the
regression check: deterministic, unlike timings) and the count → milliseconds conversion."""

from __future__ import annotations

import shutil

import pytest

from edgesal.bench.arm_estimate import labelled_artefact, main
from edgesal.bench.qemu.cores import CORES, get_core
from edgesal.bench.qemu.count import region_counts
from edgesal.bench.qemu.estimate import Reference, break_even_ref_ms, estimate_ms, estimate_rows, parse_ref_ms, verdict
from edgesal.bench.qemu.plugin import MARK_MAGIC, parse_marks
from edgesal.errors import EdgesalError


def test_estimate_scales_the_reference_latency_by_the_count_ratio():
    assert estimate_ms(50e6, 100e6, 120.0) == pytest.approx(60.0)
    assert estimate_ms(300e6, 100e6, 10.0) == pytest.approx(30.0)
    # 30 FPS = 33.3 ms: a model with half the reference's instructions needs the reference ≤ 66.7 ms
    assert break_even_ref_ms(50e6, 100e6, 30.0) == pytest.approx(66.667, rel=1e-4)
    assert verdict(33.0, 30.0) == "pass" and verdict(34.0, 30.0) == "fail" and verdict(None, 30.0) == "unknown"
    with pytest.raises(ValueError):
        estimate_ms(0, 100e6, 10.0)


def test_estimate_rows_per_core_use_that_cores_reference_count():
    table = (("a53", "ref", 200e6), ("a53", "m", 50e6), ("a76", "ref", 100e6), ("a76", "m", 50e6))
    counts = [{"label": label, "core": core, "per_inference": n} for core, label, n in table]
    rows = estimate_rows(counts, "ref", {"a53": Reference(160.0, "s", "c")}, 30.0)
    m53, m76 = rows[1], rows[3]
    assert m53["x_reference"] == pytest.approx(0.25) and m53["estimated_ms"] == pytest.approx(40.0)
    assert m53["verdict"] == "fail" and m53["break_even_ref_ms"] == pytest.approx(133.33, rel=1e-4)
    assert m76["x_reference"] == pytest.approx(0.5) and m76["estimated_ms"] is None and m76["verdict"] == "unknown"


def test_ref_ms_option_and_its_errors():
    refs = parse_ref_ms(["a76=12.5", "Cortex-A53=150"], list(CORES))
    assert refs["a76"].ms == 12.5 and refs["a53"].ms == 150.0
    for bad in ("a76", "a99=3", "a76=-1", "a76=fast"):
        with pytest.raises(EdgesalError, match="--ref-ms"):
            parse_ref_ms([bad], list(CORES))


def test_marks_and_region_differencing():
    text = "noise\nmark 0 1000 1200\nmark 1 1600 1900\nmark 2 2700 3100\ntotal 3300\n"
    marks = parse_marks(text)
    assert marks == [(0, 1000), (1, 1600), (2, 2700)]  # the marking thread's own count
    assert parse_marks(text, all_threads=True) == [(0, 1200), (1, 1900), (2, 3100)]
    counts = region_counts(marks, 0, 1)
    assert counts["first"] == 600 and counts["second"] == 1100
    assert counts["per_inference"] == 500 and counts["overhead"] == 100
    with pytest.raises(EdgesalError, match="no marks"):
        region_counts(marks, 1, 1)
    assert MARK_MAGIC.to_bytes(4, "big") == b"EDGS"


def test_core_feature_sets():
    a53, a55, a76 = get_core("a53"), get_core("Cortex-A55"), get_core("a76")
    assert "asimddp" not in a53.features and "asimdhp" not in a53.features
    assert all(f in c.features.split() for c in (a55, a76) for f in ("asimddp", "fphp", "asimdhp"))
    assert "CPU part\t: 0xd03" in a53.cpuinfo() and "CPU part\t: 0xd05" in a55.cpuinfo()
    assert "CPU variant\t: 0x1" in a55.cpuinfo()  # r1: the A55 revision with dot-product
    with pytest.raises(EdgesalError, match="unknown core"):
        get_core("a72")


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert main([str(tmp_path / "missing.tflite")]) == 2
    assert capsys.readouterr().err.startswith("error: model file not found")
    with pytest.raises(EdgesalError, match="runs .tflite"):
        labelled_artefact("default")  # a torch model name: not an emulated runtime
    assert main([str(tmp_path / "m.tflite"), "--cores", "a99"]) == 2
    assert "unknown core" in capsys.readouterr().err


# ---- real counts under qemu-user (CI installs qemu-user + gcc via scripts/ci_setup.sh) ----

def _sysroot_or_skip():
    """The aarch64 sysroot, with the plugin-capable qemu and the plugin built, or a skip with the reason."""
    from edgesal.bench.arm_sysroot import SysrootError, ensure_sysroot
    from edgesal.bench.qemu.plugin import ensure_plugin, find_plugin_qemu

    try:
        find_plugin_qemu()
        ensure_plugin()
        return ensure_sysroot(log=lambda msg: None)
    except SysrootError as exc:
        pytest.skip(str(exc))


@pytest.mark.slow
def test_instruction_counts_are_deterministic_and_difference_cleanly(tmp_path_factory):
    from edgesal.bench.demo import available_targets, pytest_demo_dir, tiny_artefacts
    from edgesal.bench.qemu.count import CountJob, count_instructions

    sysroot = _sysroot_or_skip()
    if not available_targets(("tflite",)):
        pytest.skip("litert-torch is not installed: no tiny TFLite model to count")
    [path] = tiny_artefacts(pytest_demo_dir(tmp_path_factory), targets=("tflite",))
    tiny, core = labelled_artefact(f"tiny={path}"), get_core("a76")
    first = count_instructions([tiny], core, sysroot, CountJob(n=1, warmup=1))[0]
    again = count_instructions([tiny], core, sysroot, CountJob(n=1, warmup=1))[0]
    assert first == again  # same instructions, run to run: the regression check timings cannot be
    per = first["per_inference"]
    assert per > 1e5  # a 64×64 conv net is hundreds of thousands of instructions at least
    # N vs 2N invokes differ by one inference; the loop + marker overhead is a sliver of it
    assert first["second"] - first["first"] == per
    assert abs(first["overhead"]) < 0.02 * per


def test_plugin_builds_and_is_cached(tmp_path):
    from edgesal.bench.qemu.plugin import ensure_plugin

    if not (shutil.which("gcc") or shutil.which("cc")):
        pytest.skip("no C compiler (apt-get install gcc)")
    built = ensure_plugin(tmp_path)
    assert built.exists() and built.suffix == ".so"
    mtime = built.stat().st_mtime_ns
    assert ensure_plugin(tmp_path) == built and built.stat().st_mtime_ns == mtime


def test_the_emulator_prefix_turns_address_randomisation_off():
    import subprocess

    from edgesal.bench.qemu.count import no_aslr_prefix

    prefix = no_aslr_prefix()
    if not prefix:
        pytest.skip("setarch -R is missing or not allowed here: counts run with address randomisation")
    layouts = {subprocess.run([*prefix, "cat", "/proc/self/maps"], capture_output=True, text=True, check=True)
               .stdout.split("\n", 1)[0] for _ in range(3)}
    assert len(layouts) == 1  # the same mapping every run: buffers keep their alignment
