"""Checkpoint files: plain data only, written atomically, found in the cache or the repository.

A checkpoint holds only tensors and plain values (loaded with ``torch.load(weights_only=True)``)
and is written to a temporary file that is then renamed, so an interrupted write never leaves a
truncated file where a good one was.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path

import torch

from . import paths

CHECKPOINT_FORMAT = 1


class CheckpointError(RuntimeError):
    """A checkpoint that is not ours, not plain data, or from another configuration."""


def _temporary_beside(path: Path) -> tuple[int, str]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CheckpointError(f"cannot write into {path.parent} ({exc.strerror}); make the folder writable "
                              "or set THESIS_CACHE to a writable folder") from exc


def _write_atomic(path: Path, write) -> None:
    path = Path(path)
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_atomic(obj: dict, path: Path) -> None:
    """Write ``obj`` with ``torch.save`` to a temporary file beside ``path``, then rename it."""
    _write_atomic(path, lambda fh: torch.save(obj, fh))


def write_json_atomic(obj: dict, path: Path) -> None:
    """Write ``obj`` as indented, key-sorted JSON to a temporary file beside ``path``, then rename it."""
    text = json.dumps(obj, indent=2, sort_keys=True) + "\n"
    _write_atomic(path, lambda fh: fh.write(text.encode()))


def load_checkpoint(path: Path, key: str | None = None) -> dict:
    """Load a checkpoint as plain data only; refuse pickled objects and other configurations."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        raise CheckpointError(f"refused to load {path}: it is not a plain-tensor checkpoint of this book "
                              f"({type(exc).__name__}: {str(exc)[:200]}). Delete it to train again.") from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"refused to load {path}: not a checkpoint of format {CHECKPOINT_FORMAT}")
    if key is not None and state.get("key") != key:
        raise CheckpointError(f"{path} belongs to configuration {state.get('key')!r}, not {key!r}; "
                              "it was made for another model, objective, data or training setting")
    return state


def tensor_digest(*tensors: torch.Tensor | None) -> str:
    """md5 of the tensors' dtypes, shapes and bytes: identifies exact data or weights."""
    digest = hashlib.md5()
    for t in tensors:
        if t is not None:
            digest.update(str((t.dtype, tuple(t.shape))).encode())
            digest.update(t.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def weights_digest(state_dict: dict[str, torch.Tensor]) -> str:
    """md5 of a state dict's names, dtypes, shapes and bytes: equal exactly when the weights are."""
    digest = hashlib.md5()
    for name, t in state_dict.items():
        digest.update(name.encode())
        digest.update(tensor_digest(t).encode())
    return digest.hexdigest()


def cache_dir() -> Path:
    """Where trained models are cached: ``THESIS_CACHE``, else ``$XDG_CACHE_HOME/thesis_vae``."""
    env = os.environ.get("THESIS_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "thesis_vae"


def committed_path(name: str, suffix: str) -> Path:
    """``checkpoints/<name><suffix>`` in the repository (``.pt`` for the weights, ``.json`` for the manifest)."""
    return paths.COMMITTED_DIR / f"{name}{suffix}"


def committed_manifest(name: str) -> dict | None:
    """The manifest ``checkpoints/<name>.json`` of a committed model, or ``None``."""
    path = committed_path(name, ".json")
    return json.loads(path.read_text()) if path.exists() else None
