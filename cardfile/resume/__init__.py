"""Résumés: their text (PDF, DOCX, plain text) and what a careful reader finds in it.

``extract.py`` turns the bytes into lines of text with real parsers (pypdf,
python-docx); ``parse.py`` finds the name, email, phone, LinkedIn URL, job title and
employment history in those lines. Nothing here knows records or HTTP.
"""

from cardfile.resume.extract import ResumeUnreadable, resume_text
from cardfile.resume.parse import Job, Resume, parse_resume

__all__ = ["Job", "Resume", "ResumeUnreadable", "parse_resume", "resume_text"]
