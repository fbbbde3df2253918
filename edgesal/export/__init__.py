"""Export to ONNX, TFLite and OpenVINO with int8 calibration and a saliency parity gate.

``export_model(ExportRequest(...))`` is what ``edgesal export`` calls; the target table is
:data:`edgesal.export.formats.EXPORT_FORMATS`. Converters live one per module
(``onnx_export``, ``tflite_export``, ``openvino_export``) and are imported on demand.
"""

from edgesal.export.formats import EXPORT_FORMATS, ExportFormat, get_format
from edgesal.export.pipeline import ArtefactResult, ExportRequest, export_model

__all__ = ["EXPORT_FORMATS", "ArtefactResult", "ExportFormat", "ExportRequest", "export_model", "get_format"]
