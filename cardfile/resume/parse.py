"""What a résumé says about its author: heuristics over its lines of text.

- **email**: the first address (``name@domain.tld``);
- **LinkedIn**: the first ``linkedin.com/in/<profile>`` URL, as ``https://www.linkedin.com/in/<profile>``;
- **phone**: a line labelled Phone / Tel / Mobile first, else the first run of 9 to 15
  digits written as a phone number (``+44 20 7946 0958``, ``(555) 010-0199``); date
  ranges and years are never phones;
- **name**: a ``Name:`` line, else the first of the top lines that reads as a name: two
  to four capitalised words of letters (hyphens, apostrophes and accents allowed), no
  digits, not a heading such as "Curriculum Vitae". The first word is the first name,
  the rest the surname;
- **job title**: a ``Title:`` / ``Current role:`` line, else the line under the name when
  it reads as a title (short, no contact details, no date), else the title of the most
  recent job;
- **employment history**: the section under a heading such as "Experience", "Work
  History", "Employment History" or "Professional Experience", up to the next heading
  ("Education", "Skills"…). Each job is found by its date range (``Jan 2019 – Present``,
  ``03/2016 - 12/2018``, ``2014 to 2016``): the text on the same line, or else the line
  above, gives title and organisation (``Title at Org``, ``Title, Org``,
  ``Org | Title``…; a company suffix or a job word decides which is which); the lines
  after it, up to the next job, are its description.

Heuristics fail on unusual layouts; what was not found stays empty rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

__all__ = ["Job", "Resume", "parse_resume"]


@dataclass
class Job:
    job_title: str | None = None
    organization: str | None = None
    start_date: date | None = None
    end_date: date | None = None  # None: to the present (or unknown)
    current: bool = False
    description: str | None = None


@dataclass
class Resume:
    first_name: str | None = None
    surname: str | None = None
    email: str | None = None
    phone: str | None = None
    linkedin: str | None = None
    job_title: str | None = None
    jobs: list[Job] = field(default_factory=list)
    employment_text: str | None = None

    def found(self) -> list[str]:
        names = ("first_name", "surname", "email", "phone", "linkedin", "job_title")
        return [n for n in names if getattr(self, n)] + (["employment history"] if self.jobs else [])


EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}")
LINKEDIN = re.compile(
    r"(?:https?://)?(?:[a-z]{2,3}\.)?linkedin\.com/in/([A-Za-z0-9_%-]{2,100})/?", re.IGNORECASE
)
PHONE = re.compile(r"(?<![\w/])(\+?\(?\d[\d\s().-]{6,22}\d)(?![\w/])")
PHONE_LABEL = re.compile(r"^\s*(?:phone|tel(?:ephone)?|mobile|mob|cell|m|t)\s*[:.]\s*(.+)$", re.IGNORECASE)
LABEL = re.compile(
    r"^\s*(name|full name|title|job title|current role|position|role)\s*:\s*(.+)$", re.IGNORECASE
)
_MONTHS = {m: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], 1) for m in names}  # fmt: skip
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE = rf"(?:{_MONTH}\s+\d{{4}}|\d{{1,2}}/\d{{4}}|\d{{4}}-\d{{2}}|\d{{4}})"
_NOW = r"(?:present|current|now|today|date)"
RANGE = re.compile(
    rf"\(?\s*(?P<start>{_DATE})\s*(?:-|–|—|to|until)\s*(?P<end>{_DATE}|{_NOW})\s*\)?", re.IGNORECASE
)
_HEADINGS_WORK = ("experience", "work experience", "professional experience", "employment", "employment history",
                  "work history", "career history", "career", "professional history", "relevant experience")  # fmt: skip
_HEADINGS_OTHER = ("education", "skills", "key skills", "technical skills", "qualifications", "certifications",
                   "certificates", "languages", "interests", "hobbies", "references", "projects", "summary",
                   "profile", "personal statement", "objective", "about me", "awards", "publications",
                   "volunteering", "training", "contact", "personal details", "achievements")  # fmt: skip
_NOT_NAMES = {"curriculum vitae", "resume", "résumé", "cv", "contact", "profile", "summary"}
_ORG_WORDS = re.compile(
    r"\b(ltd|limited|inc|incorporated|llc|llp|plc|gmbh|ag|sa|bv|corp|corporation|co|company|group|"
    r"partners|university|college|school|bank|hospital|agency|council|trust|foundation|labs?|solutions|"
    r"technologies|systems|consulting|services|studios?)\b\.?",
    re.IGNORECASE,
)
_TITLE_WORDS = re.compile(
    r"\b(engineer|developer|programmer|manager|director|analyst|consultant|designer|officer|lead|head|"
    r"assistant|specialist|administrator|architect|coordinator|intern|nurse|teacher|accountant|scientist|"
    r"executive|recruiter|sales|associate|advisor|adviser|technician|supervisor|president|vp|cto|ceo|cfo|"
    r"founder|owner|partner|representative|clerk|editor|writer|researcher|lecturer|professor|tester)s?\b",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"^[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿA-ZÀ-ÖØ-Þ'’.-]*$")
_BULLET = re.compile(r"^\s*[•·▪‣◦*–—-]\s*")


def _heading(line: str) -> str | None:
    s = line.strip().strip(":").strip().lower()
    s = re.sub(r"\s+", " ", s)
    if s in _HEADINGS_WORK:
        return "work"
    if s in _HEADINGS_OTHER:
        return "other"
    return None


def _month_date(text: str, *, end: bool = False) -> date | None:
    t = text.strip().lower().rstrip(".")
    m = re.match(r"^([a-z]+)\.?\s+(\d{4})$", t)
    if m and m.group(1) in _MONTHS:
        return date(int(m.group(2)), _MONTHS[m.group(1)], 1)
    m = re.match(r"^(\d{1,2})/(\d{4})$", t) or None
    if m and 1 <= int(m.group(1)) <= 12:
        return date(int(m.group(2)), int(m.group(1)), 1)
    m = re.match(r"^(\d{4})-(\d{2})$", t)
    if m and 1 <= int(m.group(2)) <= 12:
        return date(int(m.group(1)), int(m.group(2)), 1)
    if re.match(r"^\d{4}$", t) and 1900 < int(t) < 2200:
        return date(int(t), 12 if end else 1, 1)
    return None


def _is_name(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 60 or s.lower() in _NOT_NAMES or any(ch.isdigit() for ch in s) or "@" in s:
        return False
    words = s.split()
    return 2 <= len(words) <= 4 and all(_NAME_WORD.match(w) for w in words) and not _heading(s)


def _clean(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip(" ,;|–—-:()")


def _phone(lines: list[str]) -> str | None:
    candidates = [m.group(1) for line in lines if (m := PHONE_LABEL.match(line))]
    candidates += [line for line in lines]
    for text in candidates:
        cleaned = RANGE.sub(" ", EMAIL.sub(" ", LINKEDIN.sub(" ", text)))
        for m in PHONE.finditer(cleaned):
            raw = m.group(1).strip()
            digits = re.sub(r"\D", "", raw)
            if not 9 <= len(digits) <= 15:
                continue
            if re.fullmatch(r"\d{4}\s*[-–]\s*\d{4}", raw):  # a year range
                continue
            return re.sub(r"\s+", " ", raw)
    return None


def _split_title_org(text: str) -> tuple[str | None, str | None]:
    s = _clean(text)
    if not s:
        return None, None
    m = re.match(r"^(.+?)\s+(?:at|@)\s+(.+)$", s, re.IGNORECASE)
    if m:
        return _clean(m.group(1)) or None, _clean(m.group(2)) or None
    parts = [p for p in (_clean(p) for p in re.split(r"\s*[|,–—]\s*|\s+-\s+", s)) if p]
    if len(parts) == 1:
        return (parts[0], None) if _TITLE_WORDS.search(parts[0]) else (None, parts[0])
    a, b = parts[0], ", ".join(parts[1:])
    a_org, b_org = bool(_ORG_WORDS.search(a)), bool(_ORG_WORDS.search(b))
    a_title, b_title = bool(_TITLE_WORDS.search(a)), bool(_TITLE_WORDS.search(b))
    if (a_org and not b_org) or (b_title and not a_title):
        return b, a
    return a, b


def _plain_line(line: str) -> bool:
    """A short line that can be a title or an organisation on its own."""
    s = line.strip()
    return (0 < len(s) <= 60 and not _BULLET.match(s) and not RANGE.search(s) and not s.endswith(".")
            and not re.search(r"[,|]", s))  # fmt: skip


def _jobs(section: list[str]) -> list[Job]:
    """Jobs of the experience section's lines (see the module docstring)."""
    hits = [(i, m) for i, line in enumerate(section) if (m := RANGE.search(line))]
    jobs: list[Job] = []
    used_above: set[int] = set()
    header_lines: set[int] = set()
    for n, (i, m) in enumerate(hits):
        rest = _clean(section[i][: m.start()] + " " + section[i][m.end() :])
        header = rest
        if len(re.sub(r"[^A-Za-z]", "", rest)) < 2 and i > 0 and (i - 1) not in header_lines:
            prev_hit = hits[n - 1][0] if n else -1
            if i - 1 > prev_hit:
                header = section[i - 1]
                used_above.add(i - 1)
                header_lines.add(i - 1)
                # "Title" and "Org" (either order) on lines of their own, then the dates
                a, b = section[i - 2], section[i - 1]
                if (
                    i - 2 > prev_hit
                    and _plain_line(a)
                    and _plain_line(b)
                    and (_TITLE_WORDS.search(a) or _ORG_WORDS.search(a))
                ):
                    header = f"{a} | {b}"
                    header_lines.add(i - 2)
        header_lines.add(i)
        title, org = _split_title_org(header)
        end_text = m.group("end")
        current = bool(re.fullmatch(_NOW, end_text.strip(), re.IGNORECASE))
        jobs.append(
            Job(
                title,
                org,
                _month_date(m.group("start")),
                None if current else _month_date(end_text, end=True),
                current,
            )
        )
    # descriptions: the lines after each job's header, up to the next job's header lines
    for n, (i, _m) in enumerate(hits):
        stop = len(section)
        if n + 1 < len(hits):
            stop = min([hits[n + 1][0], *[h for h in header_lines if i < h < hits[n + 1][0]]])
        body = [_BULLET.sub("", section[k]).strip() for k in range(i + 1, stop) if k not in header_lines]
        text = "\n".join(b for b in body if b)
        jobs[n].description = text or None
    return jobs


def parse_resume(text: str) -> Resume:
    """What ``text`` (a résumé's text) says; missing things stay None."""
    lines = [re.sub(r"[ \t\u00a0]+", " ", ln).strip() for ln in text.replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    out = Resume()
    joined = "\n".join(lines)
    if m := EMAIL.search(joined):
        out.email = m.group(0)
    if m := LINKEDIN.search(joined):
        out.linkedin = f"https://www.linkedin.com/in/{m.group(1).rstrip('/')}"
    out.phone = _phone(lines)

    labelled = {
        k.lower(): v.strip() for line in lines[:40] if (mm := LABEL.match(line)) for k, v in [mm.groups()]
    }
    name_line: int | None = None
    name = labelled.get("name") or labelled.get("full name")
    if not name:
        for idx, line in enumerate(lines[:12]):
            candidate = line.split("|")[0].strip()
            if _is_name(candidate):
                name, name_line = candidate, idx
                break
    if name:
        words = name.split()
        out.first_name = words[0]
        rest = [w for w in words[1:] if not re.fullmatch(r"[A-ZÀ-Þ]\.?", w)]  # middle initials
        out.surname = " ".join(rest) or None

    # the experience section
    section: list[str] = []
    inside = False
    for line in lines:
        kind = _heading(line)
        if kind == "work":
            inside = True
            continue
        if kind == "other" and inside:
            inside = False
            continue
        if inside:
            section.append(line)
    out.jobs = _jobs(section)
    out.employment_text = "\n".join(section) or None

    title = next(
        (labelled[k] for k in ("title", "job title", "current role", "position", "role") if k in labelled),
        None,
    )
    if not title and name_line is not None and name_line + 1 < len(lines):
        below = lines[name_line + 1]
        if (len(below) <= 80 and not EMAIL.search(below) and not LINKEDIN.search(below) and not RANGE.search(below)
                and not _heading(below) and sum(ch.isdigit() for ch in below) < 3 and not PHONE_LABEL.match(below)):  # fmt: skip
            title = _clean(below.split("|")[0])
    if not title and out.jobs:
        title = (
            next((j.job_title for j in out.jobs if j.current and j.job_title), None) or out.jobs[0].job_title
        )
    out.job_title = title or None
    return out
