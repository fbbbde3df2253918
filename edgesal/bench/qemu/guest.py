"""Run inside the emulated aarch64 Python: bracket N and 2N inferences of each model with
marker system calls that the ``insn_count`` plugin turns into instruction counts.

Standard library + numpy + the runtime layer (the runner bundle on ``sys.path``), like the
runner itself. A JSON job on stdin: ``{"bundle", "models": [runner job models], "threads",
"warmup", "n"}``; the result line is ``EDGESAL_RESULT <json>`` (one entry per model, in the
order of the marks: tags 3i, 3i+1, 3i+2 around model i's N and 2N invokes).
"""

import contextlib
import gc
import json
import os
import sys

MARK_MAGIC = 0x45444753  # keep equal to edgesal.bench.qemu.plugin.MARK_MAGIC


def mark(tag: int) -> None:
    """The marker: ``lseek(-1, MAGIC << 32 | tag, SEEK_SET)`` fails with EBADF; the plugin sees it."""
    with contextlib.suppress(OSError):
        os.lseek(-1, (MARK_MAGIC << 32) | tag, 0)


def bracket(session, prepared, index: int, n: int) -> None:
    """Marks around N then 2N invokes (garbage collection off, so both regions do the same work)."""
    gc.collect()
    gc.disable()
    try:
        mark(3 * index)
        for _ in range(n):
            session.invoke(prepared)
        mark(3 * index + 1)
        for _ in range(2 * n):
            session.invoke(prepared)
        mark(3 * index + 2)
    finally:
        gc.enable()


def main() -> int:
    job = json.loads(sys.stdin.read())
    sys.path.insert(0, job["bundle"])
    from edgesal_runtimes.runner import RESULT_MARKER, make_input, open_session

    results = []
    for index, model in enumerate(job["models"]):
        session = open_session(model, int(job["threads"]))
        prepared = session.prepare(make_input(model.get("input") or {}, session.nchw_shape))
        for _ in range(int(job["warmup"])):  # first invokes pack weights, plan memory: not timed
            session.invoke(prepared)
        bracket(session, prepared, index, int(job["n"]))
        results.append({"label": model["label"], "input_shape_nchw": list(session.nchw_shape)})
        del session, prepared
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps({"models": results}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
