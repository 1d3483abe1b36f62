"""Stored files (documents, résumés): a content-addressed store and content-type checks.

``storage.py`` keeps the bytes (a directory under the data dir by default); ``sniff.py``
tells what the bytes are and refuses what cardfile does not keep. The metadata of a file
(its name, type, which record it belongs to) is a record, so history and permissions
apply; only the bytes live here.
"""

from cardfile.files.sniff import FileKind, FileRefused, check_file, kept_name, sniff
from cardfile.files.storage import FileMissing, FileStore, LocalFileStore, open_store

__all__ = [
    "FileKind",
    "FileMissing",
    "FileRefused",
    "FileStore",
    "LocalFileStore",
    "check_file",
    "kept_name",
    "open_store",
    "sniff",
]
