"""Export to ONNX, TFLite and OpenVINO with int8 calibration and a saliency parity gate.

``export_model(ExportRequest(...))`` is what ``edgesal export`` calls; the target table is
:data:`edgesal.export.formats.EXPORT_FORMATS`. Converters live one per module
(``onnx_export``, ``tflite_export``, ``openvino_export``) and are imported on demand; the
pipeline too (it pulls torch), so importing the target table stays cheap for the CLI.
"""

from __future__ import annotations

import importlib
import sys
import types

from edgesal.export.formats import EXPORT_FORMATS, ExportFormat, get_format

_LAZY = {"ArtefactResult": "pipeline", "ExportRequest": "pipeline", "export_model": "pipeline"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"edgesal.export.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'edgesal.export' has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    """``edgesal.export(...)`` is the Python API's export (:func:`edgesal.export.call.export`): this
    package is also the attribute ``export`` of ``edgesal``, so it forwards calls."""

    def __call__(self, *args, **kwargs):
        from edgesal.export.call import export

        return export(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["EXPORT_FORMATS", "ArtefactResult", "ExportFormat", "ExportRequest", "export_model", "get_format"]
