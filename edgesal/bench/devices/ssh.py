"""``ssh:USER@HOST[:PORT]``: a Linux board (Raspberry Pi, Jetson, …) reached with ssh/scp.

The runner and the models are copied to a ``mktemp -d`` folder on the board and run with
its Python (``--remote-python``, default ``python3``), which needs numpy and the runtime
wheel (e.g. ``pip install ai-edge-litert onnxruntime``) but no edgesal. The system ``ssh``
and ``scp`` binaries run with ``BatchMode=yes`` (keys only, never a prompt), an optional
identity file (``--ssh-key`` / ``$EDGESAL_SSH_KEY``) and ``StrictHostKeyChecking=accept-new``
against a ``known_hosts`` in a temp folder (the user's own file is never modified).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
from pathlib import Path

from edgesal.bench.devices.base import DeviceOptions, RunnerDevice, last_line, run_process
from edgesal.errors import EdgesalError

SSH_UNREACHABLE = 255  # ssh's exit status for connection/authentication failures


def parse_address(address: str) -> tuple[str, int | None]:
    """``USER@HOST[:PORT]`` → (``USER@HOST``, port or None)."""
    host, sep, port = address.rpartition(":")
    if sep and port.isdigit() and host:
        return host, int(port)
    if not address or address.startswith(("-", "@")) or address.endswith("@"):
        raise EdgesalError(f"bad ssh address {address!r}: expected ssh:USER@HOST[:PORT]")
    return address, None


class SshDevice(RunnerDevice):
    kind = "ssh"
    needs_address = True

    def __init__(self, address: str, options: DeviceOptions):
        super().__init__(address, options)
        self.host, self.port = parse_address(address)
        key = options.ssh_key or os.environ.get("EDGESAL_SSH_KEY")
        if key and not Path(key).expanduser().is_file():
            raise EdgesalError(f"ssh identity file not found: {key}")
        self.key = str(Path(key).expanduser()) if key else None
        self.remote_python = options.remote_python or os.environ.get("EDGESAL_REMOTE_PYTHON", "python3")
        self._remote_dir: str | None = None

    def _options(self) -> list[str]:
        opts = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
                "-o", f"UserKnownHostsFile={self.tmp / 'known_hosts'}", "-o", "ConnectTimeout=10",
                "-o", "LogLevel=ERROR"]
        if self.key:
            opts += ["-i", self.key, "-o", "IdentitiesOnly=yes"]
        return opts

    def _ssh(self, command: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        port = ["-p", str(self.port)] if self.port else []
        proc = run_process(["ssh", *self._options(), *port, self.host, command], stdin,
                           self.options.timeout_s, self.name)
        if proc.returncode == SSH_UNREACHABLE:
            raise EdgesalError(f"{self.name}: cannot connect: {last_line(proc.stderr)}")
        return proc

    @property
    def remote_dir(self) -> str:
        """A per-session temp folder on the board (created on first use)."""
        if self._remote_dir is None:
            proc = self._ssh("mktemp -d /tmp/edgesal-bench.XXXXXX")
            if proc.returncode != 0 or not proc.stdout.strip().startswith("/"):
                raise EdgesalError(f"{self.name}: cannot create a temp folder: {last_line(proc.stderr)}")
            self._remote_dir = proc.stdout.strip()
        return self._remote_dir

    def _copy(self, files: list[Path]) -> str:
        folder = f"{self.remote_dir}/f{len(self._staged)}"  # one folder per model: names kept
        mkdir = self._ssh(f"mkdir -p {shlex.quote(folder)}")
        if mkdir.returncode != 0:
            raise EdgesalError(f"{self.name}: cannot create {folder}: {last_line(mkdir.stderr)}")
        port = ["-P", str(self.port)] if self.port else []
        proc = run_process(["scp", "-q", *self._options(), *port, *map(str, files), f"{self.host}:{folder}/"], None,
                           self.options.timeout_s, self.name)
        if proc.returncode != 0:
            raise EdgesalError(f"{self.name}: copying {files[0].name} failed: {last_line(proc.stderr)}")
        return f"{folder}/{files[0].name}"

    def _python(self) -> list[str]:
        return [self.remote_python]

    def _execute(self, argv: list[str], stdin: str) -> subprocess.CompletedProcess:
        python, *args = argv  # the Python stays a shell word (``~/rt/bin/python``, ``$HOME/…``)
        return self._ssh(" ".join([python, *map(shlex.quote, args)]), stdin)

    def close(self) -> None:
        if self._remote_dir is not None:
            with contextlib.suppress(EdgesalError):  # the board went away: nothing to clean that we can reach
                self._ssh(f"rm -rf {shlex.quote(self._remote_dir)}")
            self._remote_dir = None
        super().close()
