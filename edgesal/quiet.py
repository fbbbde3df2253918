"""Third-party noise of the converter stacks, hidden unless ``--verbose``.

What they print on import and conversion (seen on ``edgesal export --model fast --target
onnx --target tflite --target openvino --int8``): torchao ``Failed to load …so``, torch
``_pytree`` deprecations, LiteRT's C++ absl / oneDNN / flatbuffer lines (printed before absl's
logging is initialised, so no log level or environment variable reaches them), the TFLite
interpreter's ``INFO: Created TensorFlow Lite XNNPACK delegate``, NNCF / OpenVINO / onnxruntime
/ jax warnings and library progress bars.

:func:`hushed` turns all of that off for the duration of a ``with`` block: environment
variables read at import (TensorFlow/LiteRT log level, litert-torch and tqdm progress bars),
third-party logger levels and warning filters (edgesal's own warnings still show).
:func:`output_hidden` additionally points file descriptors 1 and 2 at a temporary file around
a converter call, for C++ output and console progress bars; it does nothing outside :func:`hushed`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator

#: environment read by the libraries when they load (set only if the user has not set it)
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "LITERT_TORCH_SHOW_PROGRESS": "n", "TQDM_DISABLE": "1"}
#: loggers set to ERROR (children inherit unless they set their own level)
NOISY_LOGGERS = ("absl", "torch", "torch.utils._pytree", "torch.onnx", "torch.export", "torch._dynamo",
                 "torch._export", "torchao", "jax", "tensorflow", "litert_torch", "nncf", "openvino",
                 "onnxruntime", "onnxscript", "onnx_ir")

_active = False


def is_hushed() -> bool:
    """True inside :func:`hushed`."""
    return _active


@contextlib.contextmanager
def hushed(enabled: bool = True) -> Iterator[None]:
    """Third-party logs, warnings and progress bars hidden inside the block (no-op if not ``enabled``).

    Logger levels and warning filters are restored afterwards; the environment variables stay
    (a library imported inside the block has read them already).
    """
    global _active
    if not enabled or _active:
        yield
        return
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    loggers = {name: logging.getLogger(name) for name in NOISY_LOGGERS}
    levels = {name: logger.level for name, logger in loggers.items()}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        warnings.filterwarnings("default", module=r"edgesal(\.|$)")  # checked first: edgesal's own
        for logger in loggers.values():
            logger.setLevel(logging.ERROR)
        _active = True
        try:
            yield
        finally:
            _active = False
            for name, logger in loggers.items():
                logger.setLevel(levels[name])


@contextlib.contextmanager
def output_hidden() -> Iterator[None]:
    """Inside :func:`hushed`: file descriptors 1 and 2 go to a temporary file for the block.

    For what converters print from C++ (absl, oneDNN, XNNPACK) and from Python straight to the
    console (NNCF's rich progress bars on stdout). Progress meant for the user must go to
    :func:`terminal_stderr`.
    """
    if not _active:
        yield
        return
    saved = {}
    try:
        with tempfile.TemporaryFile() as sink:
            for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
                stream.flush()
                saved[fd] = os.dup(fd)
                os.dup2(sink.fileno(), fd)
            yield
    finally:
        for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
            if fd in saved:
                stream.flush()
                os.dup2(saved[fd], fd)
                os.close(saved[fd])


def terminal_stderr():
    """A text stream that reaches the real stderr even inside :func:`output_hidden`.

    ``sys.stderr`` itself unless it writes to fd 2 (e.g. pytest's capture); else a line-buffered
    stream on a duplicate of fd 2 made now.
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return sys.stderr
    if fd != 2:
        return sys.stderr
    return os.fdopen(os.dup(2), "w", buffering=1, encoding=sys.stderr.encoding or "utf-8", errors="replace")
