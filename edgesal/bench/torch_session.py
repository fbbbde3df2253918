"""``torch`` in ``edgesal bench``: an edgesal model (shipped name, architecture, ``.pt``) as a
runtime session, so the runner times it interleaved with exported artefacts.

Not part of the shipped runtime layer: it needs torch and edgesal (``local`` puts the checkout
on the runner's ``sys.path``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from edgesal.models.factory import create_model
from edgesal.runtimes.base import RuntimeSession, TensorInfo

#: the ``session`` spec of a bench job model for the torch runtime
TORCH_SESSION = "edgesal.bench.torch_session:TorchSession"


class TorchSession(RuntimeSession):
    """A torch model behind the session interface (float32 NCHW in, NCHW out)."""

    runtime_name = "torch"

    def __init__(self, path: str | Path, num_threads: int = 1, metadata: dict | None = None):
        super().__init__(path, num_threads, metadata or {})

    def _check(self, path: str | Path) -> Path:
        return Path(path)  # a name or a .pt checkpoint: create_model says what is wrong

    @staticmethod
    def load_library() -> object:
        import edgesal.models  # noqa: F401 - the registry, as a model load needs it

        return torch

    def _open(self, num_threads: int) -> None:
        self.threads = num_threads
        self.torch_model = create_model(str(self.path))

    def _describe_io(self) -> tuple[TensorInfo, TensorInfo]:
        hw = tuple(self.hw_hint or self.torch_model.spec.input_hw)
        return (TensorInfo((1, 3, *hw), np.dtype(np.float32)), TensorInfo((1, 1, *hw), np.dtype(np.float32)))

    def prepare(self, x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

    def _invoke_image(self, prepared: torch.Tensor) -> np.ndarray:
        torch.set_num_threads(self.threads)  # global: set before every call (interleaving)
        with torch.inference_mode():
            return self.torch_model.model(prepared).numpy()
