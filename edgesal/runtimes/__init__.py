"""Thin wrappers around inference runtimes (LiteRT, onnxruntime, OpenVINO)."""
