"""Where file bytes live: content-addressed by their SHA-256.

A key is the hex SHA-256 of the bytes, so the same file stored twice is kept once and a
key can never name a path outside the store (it is 64 hex digits, checked). Client file
names are never used as paths. ``LocalFileStore`` writes ``<root>/ab/cd/<sha256>``
through a temporary file and an atomic rename, so a reader never sees half a file.

Configuration (``Settings.file_store``, ``CARDFILE_FILE_STORE``): empty for
``<data dir>/files``, or a directory path (``file:///srv/cardfile-files`` or a plain
path). S3-compatible object storage is the planned second implementation of
``FileStore`` (``s3://bucket/prefix``); it is not implemented, and asking for it fails at
startup rather than storing files somewhere unexpected.

Bytes are written before the metadata record's transaction commits; a transaction that
rolls back leaves its bytes unreferenced (harmless, and collectable by comparing keys
with the ``document`` records). Several API processes on several machines need a shared
directory (or the object store) for files.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

__all__ = ["FileMissing", "FileStore", "LocalFileStore", "open_store"]

_KEY = re.compile(r"^[0-9a-f]{64}$")


class FileMissing(LookupError):
    """The store does not have the bytes of a key (lost or removed behind cardfile's back)."""


class FileStore(Protocol):
    """Bytes by content hash."""

    def put(self, data: bytes) -> str:
        """Store ``data``; returns its key (hex SHA-256). Storing the same bytes again is a no-op."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes of ``key``; ``FileMissing`` when not there."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key`` (no error when it is not there)."""
        ...


def _checked(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"not a file key: {key[:80]!r}")
    return key


class LocalFileStore:
    """A directory: ``<root>/<key[0:2]>/<key[2:4]>/<key>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        k = _checked(key)
        return self.root / k[:2] / k[2:4] / k

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if path.exists() and path.stat().st_size == len(data):
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise FileMissing(f"the stored file {key[:12]}… is missing") from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def open_store(settings: Any) -> FileStore:
    """The store ``settings.file_store`` names (empty: ``<data_dir>/files``)."""
    spec = str(getattr(settings, "file_store", "") or "").strip()
    if not spec:
        return LocalFileStore(Path(settings.data_dir) / "files")
    if spec.startswith("s3://"):
        raise ValueError(
            "CARDFILE_FILE_STORE=s3://… (S3-compatible object storage) is not implemented; "
            "use a directory (empty for <data dir>/files, or a path)"
        )
    if spec.startswith("file://"):
        spec = spec[len("file://") :]
    if "://" in spec:
        raise ValueError(f"CARDFILE_FILE_STORE {spec[:60]!r}: use a directory path")
    return LocalFileStore(Path(spec))
