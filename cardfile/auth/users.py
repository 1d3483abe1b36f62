"""Users: email login, Argon2id passwords, a role and an active flag."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cardfile.auth.passwords import hash_password, verify_password
from cardfile.auth.principal import ROLES
from cardfile.errors import Conflict, NotFound, Unauthenticated, UserInactive
from cardfile.store import tables
from cardfile.store.clock import now_us

__all__ = ["User", "add_user", "authenticate_password", "get_user", "list_users", "set_active"]

U = tables.users


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    role: str
    active: bool

    @classmethod
    def of(cls, row: Any) -> User:
        return cls(int(row.id), row.email, row.display_name, row.role, bool(row.active))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "active": self.active,
        }


def _normal_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise ValueError(f"{email!r} is not an email address")
    return email


def add_user(
    conn: Connection, email: str, *, name: str = "", role: str = "standard", password: str | None
) -> User:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    email = _normal_email(email)
    display = name or email.split("@")[0]
    values = {
        "username": email,
        "email": email,
        "display_name": display,
        "role": role,
        "active": True,
        "created_at": now_us(),
        "password_hash": hash_password(password) if password is not None else None,
    }
    try:
        with conn.begin_nested():
            uid = conn.execute(U.insert().values(**values).returning(U.c.id)).scalar_one()
    except IntegrityError:
        raise Conflict(f"a user with email {email} exists") from None
    return User(int(uid), email, display, role, True)


def get_user(conn: Connection, *, email: str | None = None, user_id: int | None = None) -> User:
    q = select(U)
    q = q.where(U.c.email == _normal_email(email)) if email is not None else q.where(U.c.id == user_id)
    row = conn.execute(q).first()
    if row is None:
        raise NotFound("no such user")
    return User.of(row)


def list_users(conn: Connection) -> list[User]:
    return [User.of(r) for r in conn.execute(select(U).order_by(U.c.id)).all()]


def set_active(conn: Connection, email: str, active: bool) -> User:
    user = get_user(conn, email=email)
    conn.execute(update(U).where(U.c.id == user.id).values(active=active))
    return User(user.id, user.email, user.name, user.role, active)


def authenticate_password(conn: Connection, email: str, password: str) -> User:
    """Constant-time on the password; the same answer for a wrong email or password."""
    try:
        email = _normal_email(email)
    except ValueError:
        email = ""
    row = conn.execute(select(U).where(U.c.email == email)).first()
    if not verify_password(row.password_hash if row is not None else None, password) or row is None:
        raise Unauthenticated("wrong email or password")
    if not row.active:
        raise UserInactive("this user is disabled; ask an administrator")
    return User.of(row)
