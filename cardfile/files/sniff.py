"""What a file is, from its bytes, and whether cardfile keeps it.

Kept: PDF, Word (DOCX, and DOC in its OLE container), Excel and PowerPoint (OOXML and
OLE), OpenDocument text and spreadsheets, RTF, PNG, JPEG, GIF, WebP, and plain text
(UTF-8 or UTF-16 with a byte-order mark, no NUL bytes). Refused: executables (Windows
PE, ELF, Mach-O, scripts with ``#!``), other ZIP archives (they can hold anything),
HTML, SVG and XML (active content when opened in a browser), and anything unrecognised.

The file name's extension must agree with the bytes (``cv.pdf`` must be a PDF), so a
file cannot pass as one thing and open as another; a name without an extension takes
the detected type's.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

__all__ = ["KINDS", "FileKind", "FileRefused", "check_file", "kept_name", "sniff"]


@dataclass(frozen=True)
class FileKind:
    name: str
    ext: str  # the usual extension, without the dot
    content_type: str
    extensions: frozenset[str]  # file name extensions that may carry this kind


def _k(name: str, ext: str, ctype: str, *exts: str) -> FileKind:
    return FileKind(name, ext, ctype, frozenset({ext, *exts}))


PDF = _k("PDF document", "pdf", "application/pdf")
DOCX = _k(
    "Word document",
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docm",
    "dotx",
)
XLSX = _k(
    "Excel workbook", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsm"
)
PPTX = _k(
    "PowerPoint presentation",
    "pptx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
ODT = _k("OpenDocument text", "odt", "application/vnd.oasis.opendocument.text")
ODS = _k("OpenDocument spreadsheet", "ods", "application/vnd.oasis.opendocument.spreadsheet")
OLE = _k("Office document (OLE)", "doc", "application/msword", "xls", "ppt", "msg", "dot")
RTF = _k("RTF document", "rtf", "application/rtf", "doc")
PNG = _k("PNG image", "png", "image/png")
JPEG = _k("JPEG image", "jpg", "image/jpeg", "jpeg", "jpe", "jfif")
GIF = _k("GIF image", "gif", "image/gif")
WEBP = _k("WebP image", "webp", "image/webp")
TEXT = _k("plain text", "txt", "text/plain", "text", "csv", "md", "log", "tsv")
KINDS = (PDF, DOCX, XLSX, PPTX, ODT, ODS, OLE, RTF, PNG, JPEG, GIF, WEBP, TEXT)  # fmt: skip


class FileRefused(ValueError):
    """``code``: ``UNSUPPORTED_FILE_TYPE`` (what the bytes are is not kept) or
    ``FILE_TYPE_MISMATCH`` (the name says one type, the bytes another)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _zip_kind(data: bytes) -> FileKind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "mimetype" in names:
                mt = z.read("mimetype")[:100].decode("ascii", "replace").strip()
                for kind in (ODT, ODS):
                    if mt == kind.content_type:
                        return kind
            if "[Content_Types].xml" in names:
                for prefix, kind in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
                    if any(n.startswith(prefix) for n in names):
                        return kind
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, NotImplementedError):
        raise FileRefused("UNSUPPORTED_FILE_TYPE", "the file is a damaged ZIP archive") from None
    raise FileRefused(
        "UNSUPPORTED_FILE_TYPE", "ZIP archives are not kept (only Office and OpenDocument files)"
    )


def _text(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    return text if controls <= max(1, len(text) // 100) else None


def sniff(data: bytes) -> FileKind:
    """The kind of ``data``; ``FileRefused`` for executables and anything not kept."""
    head = data[:16]
    if data.startswith(b"MZ"):
        raise FileRefused("UNSUPPORTED_FILE_TYPE", "Windows executables are not kept")
    if data.startswith(b"\x7fELF"):
        raise FileRefused("UNSUPPORTED_FILE_TYPE", "ELF executables are not kept")
    if head[:4] in (
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ):
        raise FileRefused("UNSUPPORTED_FILE_TYPE", "Mach-O executables and Java classes are not kept")
    if data.startswith(b"#!"):
        raise FileRefused("UNSUPPORTED_FILE_TYPE", "scripts are not kept")
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if data.startswith(b"{\\rtf"):
        return RTF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return WEBP
    text = _text(data)
    if text is not None:
        start = text.lstrip()[:200].lower()
        if start.startswith("<") and any(
            t in start for t in ("<!doctype", "<html", "<svg", "<?xml", "<script", "<head", "<body")
        ):
            raise FileRefused("UNSUPPORTED_FILE_TYPE", "HTML, SVG and XML files are not kept")
        return TEXT
    raise FileRefused(
        "UNSUPPORTED_FILE_TYPE", "the file type is not recognised (PDF, Office, images and text are kept)"
    )


def check_file(data: bytes, filename: str) -> FileKind:
    """The kind of ``data``, checked against the extension of ``filename``."""
    if not data:
        raise FileRefused("EMPTY_FILE", "the file is empty")
    kind = sniff(data)
    stem, dot, ext = filename.rpartition(".")
    if dot and stem and ext.isascii() and ext.isalnum() and len(ext) <= 8:
        if ext.lower() not in kind.extensions:
            raise FileRefused(
                "FILE_TYPE_MISMATCH",
                f"the file is a {kind.name}, but its name says .{ext.lower()} (use .{kind.ext})",
            )
    return kind


def kept_name(filename: str, kind: FileKind) -> str:
    """The name a file is kept under: ``filename`` without surrounding spaces, with the
    detected type's extension when it has none, at most 255 characters."""
    name = filename.strip()
    if "." not in name.strip(".") or not name.rpartition(".")[2].isalnum():
        name = f"{name}.{kind.ext}"
    return name[:255]
