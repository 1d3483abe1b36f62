"""Native webhook routes: subscriptions, secret rotation, the delivery log and dead letters.

A thin layer over ``cardfile.webhooks`` (``WebhookAdmin``, bound to each unit of work by the
kit); admins only (scope ``webhooks.ALL``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from cardfile.api.kit.body import JSON_BODY_DOC, read_json
from cardfile.api.kit.credentials import Credentials, credentials_of
from cardfile.api.kit.ratelimit import limited
from cardfile.api.kit.responses import json_response
from cardfile.api.kit.routes import PlainRoute
from cardfile.api.kit.services import services_of
from cardfile.api.kit.units import run_read_with, run_write_with
from cardfile.api.kit.webhooks import check_subscription_url
from cardfile.errors import BadRequest
from cardfile.webhooks import subscriptions
from cardfile.webhooks.access import WebhookAdmin

__all__ = ["router"]

router = APIRouter(
    prefix="/webhooks", tags=["webhooks"], dependencies=[Depends(limited("metadata"))], route_class=PlainRoute
)
Caller = Annotated[Credentials, Depends(credentials_of)]
_STATUSES = ("pending", "delivering", "delivered", "dead")


@router.get("", summary="All webhook subscriptions (secrets are never shown again)")
async def list_(request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def read(admin: WebhookAdmin) -> list[dict[str, Any]]:
        return [s.to_json() for s in admin.subscriptions()]

    return json_response({"items": await run_read_with(svc, creds, WebhookAdmin, read)})


@router.post(
    "",
    status_code=201,
    summary="Subscribe a URL; the answer shows its secret once",
    openapi_extra=JSON_BODY_DOC,
)
async def create(request: Request, creds: Caller) -> Response:
    """Body: ``{"url": "https://…", "event_types": ["record.updated"], "record_types": ["deals"],
    "fields": ["stage"], "description": "…"}``; only ``url`` is required."""
    svc = services_of(request)
    body = await read_json(request)
    values = subscriptions.parse_body(body, partial=False)
    await check_subscription_url(svc, creds, values.get("url"))

    def write(admin: WebhookAdmin) -> Response:
        sub, secret = admin.create(values)
        return json_response(
            {**sub.to_json(), "secret": secret}, 201, {"Location": f"/api/webhooks/{sub.id}"}
        )

    return await run_write_with(request, svc, creds, body, WebhookAdmin, write)


@router.get("/deliveries", summary="The delivery log, oldest first (filter by status and subscription)")
async def deliveries(
    request: Request,
    creds: Caller,
    status: Annotated[str | None, Query(description="pending, delivering, delivered or dead")] = None,
    subscription_id: int | None = None,
    after: Annotated[int, Query(description="the last id of the previous page")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    if status is not None and status not in _STATUSES:
        raise BadRequest(f"status must be one of {', '.join(_STATUSES)}", field="status")
    svc = services_of(request)

    def read(admin: WebhookAdmin) -> list[dict[str, Any]]:
        return admin.deliveries(status=status, subscription_id=subscription_id, after_id=after, limit=limit)

    items = await run_read_with(svc, creds, WebhookAdmin, read)
    return json_response({"items": items, "next_after": items[-1]["id"] if len(items) == limit else None})


@router.get("/dead-letters", summary="Deliveries that failed for the whole retry window")
async def dead_letters(
    request: Request,
    creds: Caller,
    subscription_id: int | None = None,
    after: int = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    return await deliveries(request, creds, "dead", subscription_id, after, limit)


@router.post("/dead-letters/replay", summary="Send dead letters again (all, some ids, or one subscription's)")
async def replay(request: Request, creds: Caller) -> Response:
    """Body: ``{}`` (every dead letter), ``{"ids": [1, 2]}`` or ``{"subscription_id": 3}``."""
    svc = services_of(request)
    body = await read_json(request)
    if not isinstance(body, dict) or set(body) - {"ids", "subscription_id"}:
        raise BadRequest('the body is {}, {"ids": [...]} or {"subscription_id": n}')
    ids = body.get("ids")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)):
        raise BadRequest("'ids' must be a list of delivery ids", field="ids")
    sub_id = body.get("subscription_id")
    if sub_id is not None and not isinstance(sub_id, int):
        raise BadRequest("'subscription_id' must be an id", field="subscription_id")

    def write(admin: WebhookAdmin) -> Response:
        return json_response({"replayed": admin.replay(ids, subscription_id=sub_id)})

    return await run_write_with(request, svc, creds, body, WebhookAdmin, write)


@router.get("/{sub_id}", summary="One subscription")
async def get(sub_id: int, request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def read(admin: WebhookAdmin) -> dict[str, Any]:
        return admin.get(sub_id).to_json()

    return json_response(await run_read_with(svc, creds, WebhookAdmin, read))


@router.patch("/{sub_id}", summary="Change a subscription (partial)", openapi_extra=JSON_BODY_DOC)
async def patch(sub_id: int, request: Request, creds: Caller) -> Response:
    svc = services_of(request)
    body = await read_json(request)
    values = subscriptions.parse_body(body, partial=True)
    await check_subscription_url(svc, creds, values.get("url"))

    def write(admin: WebhookAdmin) -> Response:
        return json_response(admin.update(sub_id, values).to_json())

    return await run_write_with(request, svc, creds, body, WebhookAdmin, write)


@router.delete("/{sub_id}", status_code=204, summary="Delete a subscription and its undelivered deliveries")
async def delete(sub_id: int, request: Request, creds: Caller) -> Response:
    svc = services_of(request)

    def write(admin: WebhookAdmin) -> Response:
        admin.delete(sub_id)
        return Response(status_code=204)

    return await run_write_with(request, svc, creds, None, WebhookAdmin, write)


@router.post("/{sub_id}/rotate-secret", summary="A new secret; the old one keeps signing during the overlap")
async def rotate_secret(sub_id: int, request: Request, creds: Caller) -> Response:
    svc = services_of(request)
    overlap = svc.settings.webhooks.secret_overlap_s

    def write(admin: WebhookAdmin) -> Response:
        sub, secret = admin.rotate_secret(sub_id, overlap)
        return json_response({**sub.to_json(), "secret": secret})

    return await run_write_with(request, svc, creds, None, WebhookAdmin, write)
