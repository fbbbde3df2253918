"""Device harness: latency/FPS/memory/parity of exported models on local, ssh, adb and qemu devices.

- :mod:`~edgesal.bench.harness`: ``run_bench`` — interleaved timing, memory, parity → one document;
- :mod:`~edgesal.bench.bundle`: the runtime layer (:mod:`edgesal.runtimes`, whose
  :mod:`~edgesal.runtimes.runner` runs on a device) zipped into one file to copy there;
- :mod:`~edgesal.bench.torch_session`: torch models as a runtime session (local device);
- :mod:`~edgesal.bench.devices`: one class per ``--device`` kind behind one interface;
- :mod:`~edgesal.bench.artefact`: model file → runtime, metadata and reference maps;
- :mod:`~edgesal.bench.report`: JSON / Markdown / self-contained HTML reports;
- :mod:`~edgesal.bench.benchmark_model`: parser of TFLite ``benchmark_model`` output (adb);
- :mod:`~edgesal.bench.arm_sysroot`: the cached arm64 sysroot for ``qemu-aarch64``;
- :mod:`~edgesal.bench.demo`: a tiny exported model for self-tests.
"""
