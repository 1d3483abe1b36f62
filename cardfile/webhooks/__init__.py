"""Webhooks: subscriptions, delivery of outbox events with retries and signatures.

Modules (kept import-light, so field types may use ``ssrf`` without pulling in HTTP):
``config`` (``WebhookConfig``), ``ssrf`` (the outbound guard), ``signing`` (Standard
Webhooks), ``subscriptions`` (CRUD and secrets), ``delivery`` (one signed POST),
``worker`` (dispatch, claim, retry, dead letters).
"""
