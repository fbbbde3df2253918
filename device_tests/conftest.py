"""Options and fixtures of the device harness: ``pytest device_tests --model FILE --device DEVICE``.

Without ``--model`` a tiny model is exported first (ONNX, plus TFLite when its converter is
installed; fp32 and int8), so CI checks the harness end to end. Without ``--device`` the
suite runs on ``local`` and ``qemu-aarch64`` (skipped, with the reason, when the arm64
sysroot cannot be built, e.g. offline or without root).
"""

from __future__ import annotations

import pytest

from edgesal.bench.arm_sysroot import SysrootError
from edgesal.bench.artefact import resolve_artefact
from edgesal.bench.devices import DeviceOptions, open_device

DEFAULT_DEVICES = ("local", "qemu-aarch64")
DEMO_PRECISIONS = ("fp32", "int8")


def pytest_addoption(parser):
    group = parser.getgroup("edgesal device harness")
    group.addoption("--model", action="append", default=[], metavar="FILE",
                    help="exported artefact to check (repeatable; default: export a tiny demo model)")
    group.addoption("--device", action="append", default=[], metavar="DEVICE",
                    help="local | ssh:USER@HOST[:PORT] | adb:SERIAL | qemu-aarch64 (repeatable; "
                         f"default: {', '.join(DEFAULT_DEVICES)})")
    group.addoption("--runtime", default="auto", help="runtime for the models (default: by suffix)")
    group.addoption("--target-fps", type=float, default=30.0, help="FPS a real device must reach (default 30)")
    group.addoption("--threads", default="1", help="comma-separated thread counts for the FPS check")
    group.addoption("--runs", type=int, default=30, help="timed runs for the FPS check")
    group.addoption("--ssh-key", help="ssh devices: identity file")
    group.addoption("--remote-python", help="ssh devices: the board's Python (default python3)")
    group.addoption("--benchmark-binary", help="adb devices: TFLite benchmark_model for Android")
    group.addoption("--qemu-cache", help="qemu-aarch64: sysroot folder (default ~/.cache/edgesal/aarch64)")


def _demo_names() -> list[str]:
    from edgesal.bench.demo import available_targets

    return [f"demo:{t}:{p}" for t in available_targets() for p in DEMO_PRECISIONS] or ["demo:none:none"]


def pytest_generate_tests(metafunc):
    config = metafunc.config
    if "device_spec" in metafunc.fixturenames:
        metafunc.parametrize("device_spec", config.getoption("--device") or list(DEFAULT_DEVICES), scope="session")
    if "model_spec" in metafunc.fixturenames:
        models = config.getoption("--model") or _demo_names()
        metafunc.parametrize("model_spec", models, scope="session",
                             ids=[m.replace("demo:", "") if m.startswith("demo:") else m for m in models])


@pytest.fixture(scope="session")
def device_options(pytestconfig) -> DeviceOptions:
    get = pytestconfig.getoption
    return DeviceOptions(ssh_key=get("--ssh-key"), remote_python=get("--remote-python"),
                         benchmark_binary=get("--benchmark-binary"), qemu_cache=get("--qemu-cache"))


@pytest.fixture(scope="session")
def device(device_spec, device_options):
    """The opened device (one per session); qemu skips when its sysroot cannot be built."""
    try:
        dev = open_device(device_spec, device_options)
    except SysrootError as exc:
        pytest.skip(f"qemu-aarch64 unavailable: {exc}")
    yield dev
    dev.close()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory):
    from edgesal.bench.demo import pytest_demo_dir

    return pytest_demo_dir(tmp_path_factory)


@pytest.fixture(scope="session")
def artefact(model_spec, demo_dir, pytestconfig):
    if not model_spec.startswith("demo:"):
        return resolve_artefact(model_spec, pytestconfig.getoption("--runtime"))
    from edgesal.bench.demo import tiny_artefacts

    _, target, precision = model_spec.split(":")
    if target == "none":
        pytest.skip("no exporter installed for the demo model (pip install onnxscript, or give --model FILE)")
    paths = tiny_artefacts(demo_dir, targets=(target,), precisions=DEMO_PRECISIONS)
    wanted = [p for p in paths if f"_{precision}" in p.name]
    if not wanted:
        pytest.skip(f"demo export {target}/{precision} did not pass its own parity gate")
    return resolve_artefact(str(wanted[0]))
