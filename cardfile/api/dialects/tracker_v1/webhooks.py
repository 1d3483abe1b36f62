"""Tracker webhooks over cardfile's webhook subscriptions (``cardfile/webhooks``).

A Tracker hook is one URL, one action (``created``, ``updated``, ``deleted``: the
catalogue of ``Webhook/Meta/Actions``) and one record type. It is stored as an engine
subscription with one event type (``record.<action>``) and one record type, so its
events are delivered by the engine's worker, signed, retried and in order, and a change
made through any API (native, widget, Zoho, Tracker v1…) triggers it. The hook's ``id``
is the subscription's id; the native ``/api/webhooks`` API shows and manages the same
subscriptions. Subscriptions that do not have that shape (several event types, every
record type) are not Tracker hooks and are not listed here.

``recordType`` takes a Tracker resource name (``Resource``, ``Client``…), a widget letter
(``R``, ``C``…) or a pack type name (``resource``), in any case, and is shown as the
resource name. ``userId`` is the user who made the hook (kept in the subscription's
description). Managing webhooks needs what the native API needs: an admin whose token
carries ``webhooks.ALL`` (ask for ``scope=write,webhooks.ALL`` at Authorize, with a client
registered for it), since a subscription receives changes to every record. URLs are
checked by the SSRF guard when saved (and again when called).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from cardfile.api.dialects.tracker_v1.parse import parse_id
from cardfile.api.dialects.tracker_v1.plumbing import Caller, api_limited, no_content, read_body
from cardfile.api.dialects.tracker_v1.render import result, tracker_time
from cardfile.api.dialects.tracker_v1.spec import RESOURCES
from cardfile.api.kit.credentials import Credentials
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_read_session, run_read_with, run_write_with
from cardfile.api.kit.webhooks import check_subscription_url
from cardfile.errors import BadRequest, NotFound, ValidationFailed
from cardfile.webhooks import subscriptions
from cardfile.webhooks.access import WebhookAdmin
from cardfile.webhooks.subscriptions import Subscription

__all__ = ["ACTIONS", "router"]

router = APIRouter()
ACTIONS = ((1, "created"), (2, "updated"), (3, "deleted"))
_ACTION_WORDS = {"created": "created", "create": "created", "updated": "updated", "update": "updated",
                 "deleted": "deleted", "delete": "deleted"}  # fmt: skip
_LETTERS = {"C": "client", "N": "contact", "L": "lead", "O": "opportunity", "P": "project", "T": "ticket",
            "R": "resource", "X": "opportunity_resource"}  # fmt: skip
_NAMES = {res.type: res.name for res in RESOURCES.values()} | {"ticket": "Ticket"}
_MARK = "Tracker v1 webhook"
_USER = re.compile(r"\(user (\d+)\)")
_KEYS = {"id", "url", "action", "recordType"}


def _action(raw: Any) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool):
        found = dict(ACTIONS).get(raw)
    elif isinstance(raw, str):
        found = _ACTION_WORDS.get(raw.strip().lower().removeprefix("record."))
    else:
        found = None
    if found is None:
        raise BadRequest(
            "action must be one of created, updated, deleted (Webhook/Meta/Actions)", field="action"
        )
    return found


def _record_type(raw: Any) -> str:
    if isinstance(raw, str) and raw.strip():
        s = raw.strip()
        if s.upper() in _LETTERS and len(s) == 1:
            return _LETTERS[s.upper()]
        res = RESOURCES.get(s.lower())
        if res is not None:
            return res.type
        if s.lower() in _NAMES:
            return s.lower()
    raise BadRequest("recordType must be a Tracker resource (Client, Contact, Resource…) or its letter",
                     field="recordType")  # fmt: skip


def _url(raw: Any) -> str:
    if not isinstance(raw, str) or not re.match(r"^https?://[^\s/]+", raw.strip(), re.IGNORECASE):
        raise BadRequest("url must be an absolute http:// or https:// URL", field="url")
    if len(raw) > subscriptions.URL_MAX_LENGTH:
        raise BadRequest(f"url may be at most {subscriptions.URL_MAX_LENGTH} characters", field="url")
    return raw.strip()


def hook_json(sub: Subscription) -> dict[str, Any] | None:
    """The Tracker shape of a subscription, or None when it is not a Tracker hook."""
    if len(sub.event_types) != 1 or len(sub.record_types) != 1:
        return None
    action = sub.event_types[0].removeprefix("record.")
    if action not in _ACTION_WORDS.values() or sub.record_types[0] not in _NAMES:
        return None
    m = _USER.search(sub.description or "")
    times = sub.to_json()
    return {
        "id": sub.id, "userId": int(m.group(1)) if m else 0, "url": sub.url,
        "recordType": _NAMES[sub.record_types[0]], "action": action,
        "created": tracker_time(times["created_at"]), "updated": tracker_time(times["updated_at"]),
    }  # fmt: skip


async def _checked_url(request: Request, creds: Credentials, url: str | None) -> None:
    """The kit's check (admin first, then the SSRF check with DNS), refusals as 400."""
    try:
        await check_subscription_url(services_of(request), creds, url)
    except ValidationFailed as exc:
        raise BadRequest(exc.errors[0].message if exc.errors else "url not allowed", field="url") from None


def _body(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise BadRequest(f"unknown member(s): {', '.join(unknown)[:200]}")
    return body


@router.post("/api/v1/Webhook", tags=["Webhook"], dependencies=api_limited, summary="Creates a new webhook")
async def create(request: Request, creds: Caller) -> Response:
    svc = services_of(request)
    body = _body(await read_body(request))
    url, action, rtype = (
        _url(body.get("url")),
        _action(body.get("action")),
        _record_type(body.get("recordType")),
    )
    await _checked_url(request, creds, url)

    def write(admin: WebhookAdmin) -> Response:
        user_id = admin.principal.user_id if admin.principal else None
        who = f" (user {user_id})" if user_id is not None else ""
        values = {"url": url, "event_types": [f"record.{action}"], "record_types": [rtype],
                  "fields": None, "description": f"{_MARK}{who}"}  # fmt: skip
        sub, _secret = admin.create(values)
        return json_response(result(sub.id, "Hook created successfully"), 201)

    return await run_write_with(request, svc, creds, body, WebhookAdmin, write)


@router.patch("/api/v1/Webhook", tags=["Webhook"], dependencies=api_limited,
              summary="Updates an existing webhook (its id in the body)")  # fmt: skip
async def update(request: Request, creds: Caller) -> Response:
    svc = services_of(request)
    body = _body(await read_body(request))
    hook_id = body.get("id")
    if not isinstance(hook_id, int) or isinstance(hook_id, bool) or hook_id <= 0:
        raise BadRequest("id must be the webhook's id", field="id")
    values: dict[str, Any] = {}
    if body.get("url") is not None:
        values["url"] = _url(body["url"])
    if body.get("action") is not None:
        values["event_types"] = [f"record.{_action(body['action'])}"]
    if body.get("recordType") is not None:
        values["record_types"] = [_record_type(body["recordType"])]
    await _checked_url(request, creds, values.get("url"))

    def write(admin: WebhookAdmin) -> Response:
        if not _is_hook(admin, hook_id):
            return no_content()
        admin.update(hook_id, values)
        return json_response(result(hook_id, "Hook updated successfully"))

    return await run_write_with(request, svc, creds, body, WebhookAdmin, write)


def _is_hook(admin: WebhookAdmin, hook_id: int) -> bool:
    """Whether the subscription ``hook_id`` exists and is a Tracker hook."""
    try:
        return hook_json(admin.get(hook_id)) is not None
    except NotFound:
        return False


def _hooks(admin: WebhookAdmin) -> list[dict[str, Any]]:
    return [h for s in admin.subscriptions() if (h := hook_json(s)) is not None]


@router.get("/api/v1/Webhook/Meta/Actions", tags=["Webhook"], dependencies=api_limited,
            summary="Gets actions list options")  # fmt: skip
async def meta_actions(request: Request, creds: Caller) -> Response:
    await run_read_session(services_of(request), creds, lambda _: None)  # authenticated, like every call
    return json_response([{"id": i, "action": a} for i, a in ACTIONS])


@router.get("/api/v1/Webhook/List", tags=["Webhook"], dependencies=api_limited, summary="Gets every webhook")
async def list_(request: Request, creds: Caller) -> Response:
    rows = await run_read_with(services_of(request), creds, WebhookAdmin, _hooks)
    return json_response(rows) if rows else no_content()


@router.get("/api/v1/Webhook/Actions/{hookId}", tags=["Webhook"], dependencies=api_limited,
            summary="Gets a list of all actions that trigger a webhook (the hooks of its URL)")  # fmt: skip
async def actions(hookId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    hid = parse_id(hookId, "hookId")

    def work(admin: WebhookAdmin) -> list[dict[str, Any]]:
        hooks = _hooks(admin)
        this = next((h for h in hooks if h["id"] == hid), None)
        return [h for h in hooks if h["url"] == this["url"]] if this else []

    rows = await run_read_with(services_of(request), creds, WebhookAdmin, work)
    return json_response(rows) if rows else no_content()


@router.get("/api/v1/Webhook/{hookId}", tags=["Webhook"], dependencies=api_limited,
            summary="Gets specific webhook information")  # fmt: skip
async def get(hookId: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    hid = parse_id(hookId, "hookId")

    def work(admin: WebhookAdmin) -> dict[str, Any] | None:
        return next((h for h in _hooks(admin) if h["id"] == hid), None)

    body = await run_read_with(services_of(request), creds, WebhookAdmin, work)
    return json_response(body) if body is not None else no_content()


@router.delete("/api/v1/Webhook/{Id}", tags=["Webhook"], dependencies=api_limited,
               summary="Deletes an existing webhook")  # fmt: skip
async def delete(Id: str, request: Request, creds: Caller) -> Response:  # noqa: N803
    svc = services_of(request)
    hid = parse_id(Id)

    def write(admin: WebhookAdmin) -> Response:
        if not _is_hook(admin, hid):
            return no_content()
        admin.delete(hid)
        return json_response(result(hid, "Hook deleted"))

    return await run_write_with(request, svc, creds, None, WebhookAdmin, write)
