"""Demo data for the ``demo`` pack, and synthetic contacts for benchmarks."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from cardfile.engine.commands import Context, CreateCommand, ops_from_json
from cardfile.engine.importer import import_records
from cardfile.services import Services
from cardfile.store import tables
from cardfile.store.clock import now_us

__all__ = ["has_records", "seed_demo", "synthetic_contacts"]

_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken",
          "Radia", "Tim", "Katherine", "Dennis", "Hedy", "Linus", "Sophie", "Niklaus", "Joan", "Guido"]  # fmt: skip
_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Hamilton",
         "Thompson", "Perlman", "Berners-Lee", "Johnson", "Ritchie", "Lamarr", "Torvalds", "Wilson", "Wirth",
         "Clarke", "van Rossum"]  # fmt: skip
_COMPANIES = ["Acme Analytics", "Globex Software", "Initech Retail", "Umbrella Health", "Stark Manufacturing"]
_STATUS = ["lead", "prospect", "customer", "churned", "partner"]
_TAGS = ["vip", "newsletter", "partner", "trial", "enterprise", "smb", "churn-risk", "referral"]
_TITLES = ["CEO", "CTO", "Engineer", "Buyer", "Analyst", "Head of Sales", "Designer", "Consultant"]


def synthetic_contacts(n: int, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    rnd = random.Random(seed)
    for i in range(1, n + 1):
        first, last = rnd.choice(_FIRST), rnd.choice(_LAST)
        yield {
            "first_name": first,
            "last_name": last,
            "email": f"{first.lower()}.{last.lower().replace(' ', '').replace('-', '')}.{i}@example.com",
            "phone": f"+1415555{i % 10000:04d}",
            "title": rnd.choice(_TITLES),
            "company": rnd.choice(_COMPANIES),
            "score": rnd.randint(0, 100),
            "revenue": round(rnd.uniform(0, 100000), 2),
            "birthday": f"{rnd.randint(1950, 2004)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
            "status": rnd.choice(_STATUS),
            "tags": rnd.sample(_TAGS, rnd.randint(0, 3)),
            "notes": "Met at a conference.\nFollow up next quarter." if i % 7 == 0 else None,
        }


def has_records(svc: Services) -> bool:
    with svc.db.read() as conn:
        return bool(conn.execute(select(func.count()).select_from(tables.records)).scalar())


def seed_demo(svc: Services, *, contacts: int = 50) -> None:
    """Users, companies, contacts and deals that show every field type."""
    ctx = Context(actor="demo", channel="cli", reason="demo data")
    with svc.db.write() as conn:
        for username, name in (("alice", "Alice Admin"), ("bob", "Bob Seller")):
            exists = conn.execute(
                select(tables.users.c.id).where(tables.users.c.username == username)
            ).first()
            if exists is None:
                conn.execute(
                    tables.users.insert().values(
                        username=username, display_name=name, email=f"{username}@example.com", active=True,
                        created_at=now_us(),
                    )
                )  # fmt: skip
    companies = [
        {"name": name, "website": f"https://{name.split()[0].lower()}.example.com", "phone": "+14155550100",
         "industry": ind, "employees": emp, "annual_revenue": {"currency": "USD", "value": rev},
         "founded": "2001-04-01", "social": {"linkedin": f"https://www.linkedin.com/company/{name.split()[0].lower()}"},
         "description": f"{name} is a demo company."}
        for name, ind, emp, rev in zip(
            _COMPANIES, ["software", "software", "retail", "healthcare", "manufacturing"],
            [120, 800, 45, 2300, 15000], [1.2e6, 9.5e7, 3.4e6, 4.1e8, 2.2e9], strict=True,
        )
    ]  # fmt: skip
    import_records(svc.engine, "companies", companies, ctx)
    import_records(svc.engine, "contacts", synthetic_contacts(contacts), ctx)
    with svc.db.write() as conn:
        users = [
            int(r) for r in conn.execute(select(tables.users.c.id).order_by(tables.users.c.id)).scalars()
        ]
        company_ids = [int(r) for r in conn.execute(
            select(tables.records.c.id).where(tables.records.c.type == "companies").order_by(tables.records.c.id)
        ).scalars()]  # fmt: skip
        contact_ids = [int(r) for r in conn.execute(
            select(tables.records.c.id).where(tables.records.c.type == "contacts").order_by(tables.records.c.id).limit(10)
        ).scalars()]  # fmt: skip
        rt = svc.catalog.record_type(conn, "deals")
        multi = frozenset(
            f.name for f in rt if f.type in ("multi_lookup", "multi_user", "checkbox", "files", "sub_records")
        )
        for i, stage in enumerate(["qualification", "proposal", "negotiation", "won", "lost"]):
            body = {
                "name": f"{_COMPANIES[i]} renewal",
                "amount": {"currency": "USD", "value": 25000 + 5000 * i},
                "stage": stage,
                "probability": [10, 40, 70, 100, 0][i],
                "won": stage == "won",
                "close_date": f"2026-{i + 7:02d}-15",
                "closed_at": "2026-11-02T15:30:00+01:00" if stage in ("won", "lost") else None,
                "company": company_ids[i],
                "contacts": contact_ids[2 * i : 2 * i + 2],
                "owner": users[i % len(users)],
                "followers": users,
                "checklist": ["budget", "need"][: i % 3],
                "attachments": [{"url": "https://files.example.com/proposal.pdf", "name": "proposal.pdf"}],
                "links": {"proposal": "https://docs.example.com/p/1"},
                "line_items": [
                    {"product": "Seats", "quantity": 10 + i, "unit_price": 1200},
                    {"product": "Support", "quantity": 1, "unit_price": 5000.5},
                ],
                "description": "Annual renewal.",
            }
            body = {k: v for k, v in body.items() if v is not None}
            svc.engine.create(
                CreateCommand("deals", tuple(ops_from_json(body, multi_fields=multi))), ctx, conn
            )
