"""Options and fixtures of the device harness: ``pytest device_tests --model FILE --device DEVICE``.

Without ``--model`` a tiny model is exported first (ONNX, plus TFLite when its converter is
installed; fp32 and int8), so CI checks the harness end to end; a demo artefact that fails
its own parity gate fails the tests. Without ``--device`` the suite runs on ``local`` and
``qemu-aarch64`` (skipped, with the reason, when the arm64 sysroot cannot be built, e.g.
offline or without root). Tests marked ``real_timings`` (the FPS check) are not collected
for emulated devices: their timings are never compared with an FPS target.
"""

from __future__ import annotations

import pytest

from edgesal.bench.arm_sysroot import SysrootError
from edgesal.bench.artefact import resolve_artefact
from edgesal.bench.devices import DeviceOptions, device_class, open_device
from edgesal.errors import EdgesalError

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


def pytest_configure(config):
    config.addinivalue_line("markers", "real_timings: compares timings with a target; not run on emulated devices")


def _emulated(device_spec: str) -> bool:
    try:
        return device_class(device_spec.partition(":")[0]).emulated
    except EdgesalError:  # an unknown device fails when opened, with its own message
        return False


def _device_spec(item) -> str:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("device_spec", "") if callspec else ""


def pytest_collection_modifyitems(config, items):
    """Deselect ``real_timings`` tests on emulated devices (not a skip: there is nothing to run)."""
    emulated = [item for item in items if item.get_closest_marker("real_timings") and _emulated(_device_spec(item))]
    if emulated:
        config.hook.pytest_deselected(items=emulated)
        items[:] = [item for item in items if item not in emulated]


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
        pytest.fail(f"demo export {target}/{precision} failed its own parity gate (see "
                    f"{demo_dir / 'export_report.md'})")
    return resolve_artefact(str(wanted[0]))
