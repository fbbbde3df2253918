"""Device harness: latency/FPS/memory of exported models on local, ssh, adb and qemu devices.

- :mod:`~edgesal.bench.runner`: the self-contained script that runs on a device;
- :mod:`~edgesal.bench.devices`: one class per ``--device`` kind behind one interface;
- :mod:`~edgesal.bench.harness`: ``run_bench`` — interleaved timing, memory, parity;
- :mod:`~edgesal.bench.report`: JSON / Markdown / self-contained HTML reports;
- :mod:`~edgesal.bench.benchmark_model`: parser of TFLite ``benchmark_model`` output (adb);
- :mod:`~edgesal.bench.arm_sysroot`: the cached arm64 sysroot for ``qemu-aarch64``.
"""
