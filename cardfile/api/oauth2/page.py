"""The login and consent page of the authorization endpoint, and its CSRF token.

The page is plain HTML, no script, every interpolated value HTML-escaped. It is sent with
``Cache-Control: no-store``, ``X-Frame-Options: DENY`` and a CSP that forbids framing and
anything but its inline style, so it cannot be cached, framed (clickjacking) or made to
load anything.

CSRF: the form carries ``<issued-at>.<mac>``, where the MAC is HMAC-SHA256, keyed with a
random secret kept in the ``meta`` table (so every server process and a restarted one
agree), over the issue time, the pending authorization request (its query parameters,
sorted) and a random nonce held in an HttpOnly, SameSite=Lax cookie scoped to the
authorization path. A POST is accepted only with a token minted for the same request and
the same browser within ``CSRF_TTL_S``: another site can neither read the cookie nor make
the browser send it with a cross-site POST, and a token cannot be replayed onto a
different authorization request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse

__all__ = [
    "CSRF_COOKIE",
    "CSRF_TTL_S",
    "check_csrf",
    "describe_scope",
    "make_csrf",
    "new_nonce",
    "render",
    "respond",
    "valid_nonce",
]

CSRF_COOKIE = "cardfile_oauth2_nonce"
CSRF_TTL_S = 1800  # time to read the page and type a password
_NONCE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")

_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
}

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}"
    "label{display:block;margin:.75rem 0}input{display:block;width:100%;padding:.4rem;box-sizing:border-box}"
    "button{margin:1rem .5rem 0 0;padding:.5rem 1rem}.error{color:#a00;font-weight:600}"
    "code{background:#f3f3f3;padding:0 .2rem}"
)


def new_nonce() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def valid_nonce(value: str | None) -> bool:
    return value is not None and _NONCE.match(value) is not None


def _canonical(params: Iterable[tuple[str, str]]) -> str:
    return urlencode(sorted(params))


def _mac(secret: bytes, issued: int, nonce: str, params: Iterable[tuple[str, str]]) -> str:
    message = f"cardfile-oauth2-form/v1\n{issued}\n{nonce}\n{_canonical(params)}".encode()
    return base64.urlsafe_b64encode(hmac.new(secret, message, hashlib.sha256).digest()).rstrip(b"=").decode()


def make_csrf(
    secret: bytes, nonce: str, params: Sequence[tuple[str, str]], *, now: float | None = None
) -> str:
    issued = int(now if now is not None else time.time())
    return f"{issued}.{_mac(secret, issued, nonce, params)}"


def check_csrf(
    secret: bytes, token: str | None, nonce: str | None, params: Sequence[tuple[str, str]]
) -> bool:
    if not token or nonce is None or not valid_nonce(nonce):
        return False
    issued_text, _, mac = token.partition(".")
    if not issued_text.isdigit() or not mac:
        return False
    issued = int(issued_text)
    now = time.time()
    if not (now - CSRF_TTL_S <= issued <= now + 60):
        return False
    return hmac.compare_digest(mac, _mac(secret, issued, nonce, params))


def describe_scope(scope: str) -> str:
    """A reader's description of one scope."""
    fixed = {
        "records.ALL": "read and change all records",
        "metadata.READ": "read record types and their fields",
        "metadata.WRITE": "change record types and their fields",
        "automation.SKIP": "change records without running automation",
    }
    if scope in fixed:
        return fixed[scope]
    parts = scope.split(".")
    if len(parts) == 3 and parts[0] == "records":
        verbs = {
            "ALL": "read and change",
            "READ": "read",
            "WRITE": "create, change and delete",
            "CREATE": "create",
            "UPDATE": "change",
            "DELETE": "delete",
        }
        if parts[2] in verbs:
            return f"{verbs[parts[2]]} {parts[1]} records"
    return scope


def render(
    *,
    client_name: str,
    scopes: Sequence[str],
    query: str,
    csrf: str,
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The page; ``query`` is the authorization request's query string, posted back as is."""
    e = html.escape
    items = (
        "".join(f"<li>{e(describe_scope(s))} <code>{e(s)}</code></li>" for s in scopes)
        or "<li>no access beyond signing in</li>"
    )
    problem = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    body = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Authorize {e(client_name)} - cardfile</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>Authorize {e(client_name)}</h1>
<p><strong>{e(client_name)}</strong> asks to act on your behalf in cardfile. It will be able to:</p>
<ul>{items}</ul>
<p><small>Never more than your role allows.</small></p>
{problem}
<form method="post" action="?{e(query)}">
<input type="hidden" name="csrf_token" value="{e(csrf)}">
<label>Email <input type="email" name="email" value="{e(email)}" autocomplete="username" required autofocus></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit" name="action" value="allow">Sign in and allow</button>
<button type="submit" name="action" value="deny" formnovalidate>Deny</button>
</form>
</main>
</body>
</html>
"""
    return HTMLResponse(body, status_code=status, headers=_HEADERS)


def respond(
    request: Request,
    *,
    client_name: str,
    scopes: Sequence[str],
    secret: bytes,
    params: Sequence[tuple[str, str]],
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The page for this authorization request, with a CSRF token bound to its parameters
    and the nonce cookie it is checked against (kept if the browser already has a valid one)."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if nonce is None or not valid_nonce(nonce):
        nonce = new_nonce()
    response = render(
        client_name=client_name,
        scopes=scopes,
        query=request.url.query,
        csrf=make_csrf(secret, nonce, params),
        email=email,
        error=error,
        status=status,
    )
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        max_age=CSRF_TTL_S,
        path=request.url.path,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return response
