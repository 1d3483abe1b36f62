"""The text of a résumé file, line by line, from PDF (pypdf), DOCX (python-docx) or plain
text. Bounded: at most ``MAX_PAGES`` PDF pages and ``MAX_CHARS`` characters are read, and a
Word file that unpacks to more than ``MAX_UNZIPPED`` bytes is refused, so a hostile file
cannot make the server work for long."""

from __future__ import annotations

import io
import logging
import zipfile

__all__ = ["MAX_CHARS", "MAX_PAGES", "MAX_UNZIPPED", "ResumeUnreadable", "resume_text"]

MAX_PAGES = 30
MAX_CHARS = 200_000
MAX_UNZIPPED = 50 << 20
_log = logging.getLogger(__name__)


class ResumeUnreadable(ValueError):
    """The file is of a kind résumés are not read from, or its text cannot be read."""


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable PDFs are common
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ResumeUnreadable("the PDF is encrypted")
        parts: list[str] = []
        size = 0
        for page in reader.pages[:MAX_PAGES]:
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size > MAX_CHARS:
                break
        return "\n".join(parts)
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        if isinstance(exc, ResumeUnreadable):
            raise
        raise ResumeUnreadable(f"the PDF cannot be read: {str(exc)[:120]}") from None


def _docx(data: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except zipfile.BadZipFile:
        raise ResumeUnreadable("the Word document is a damaged ZIP file") from None
    if unpacked > MAX_UNZIPPED:  # a ZIP bomb is refused before parsing
        raise ResumeUnreadable(f"the Word document unpacks to more than {MAX_UNZIPPED >> 20} MB")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ResumeUnreadable(f"the Word document cannot be read: {str(exc)[:120]}") from None
    lines: list[str] = [p.text for p in document.paragraphs]
    for table in document.tables:  # résumés often lay out contact details in tables
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            lines.append(" | ".join(dict.fromkeys(cells)))
    return "\n".join(lines)


def _plain(data: bytes) -> str:
    for enc in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def resume_text(data: bytes, kind: str) -> str:
    """The text of a file of kind ``pdf``, ``docx`` or ``txt`` (``FileKind.ext``)."""
    if kind == "pdf":
        text = _pdf(data)
    elif kind == "docx":
        text = _docx(data)
    elif kind == "txt":
        text = _plain(data)
    else:
        raise ResumeUnreadable(f"résumés are read from PDF, DOCX or plain text files, not .{kind}")
    return text[:MAX_CHARS]
