"""Registered clients as Authlib sees them, and the scope rules of a grant.

Authlib asks its models through duck-typed methods (``ClientMixin``); ``OAuthClient``
answers them from a ``cardfile.auth.clients.Client``:

* redirect URIs match exactly (string equality: no prefix, wildcard or normalisation);
  a client with exactly one registered URI may omit ``redirect_uri``;
* a confidential client authenticates with ``client_secret_basic`` or
  ``client_secret_post``, a public one with ``none`` (and PKCE, always required);
* only a confidential client may use ``client_credentials``.
"""

from __future__ import annotations

from collections.abc import Iterable

from cardfile.auth import scopes as scope_rules
from cardfile.auth.clients import Client, verify_secret

__all__ = ["CONFIDENTIAL_AUTH_METHODS", "OAuthClient", "grantable", "meet"]

CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


def meet(a: Iterable[str], b: Iterable[str]) -> frozenset[str]:
    """The scopes granted by both sets, without redundancy: each scope of one that the
    other implies, less those another scope of the result implies.

    ``meet({records.contacts.READ}, {records.ALL, metadata.READ})`` is
    ``{records.contacts.READ}``; ``meet({metadata.WRITE}, {records.ALL, metadata.READ})``
    is ``{metadata.READ}``.
    """
    fa, fb = frozenset(a), frozenset(b)
    both = {s for s in fa if scope_rules.implied(s, fb)} | {s for s in fb if scope_rules.implied(s, fa)}
    for s in sorted(both):
        if scope_rules.implied(s, frozenset(both - {s})):
            both.discard(s)
    return frozenset(both)


def grantable(requested: frozenset[str], *, client: Client, role: str | None) -> frozenset[str]:
    """What a grant may carry: the requested scopes (all the client's when none are asked
    for), within the client's registration and, for a user, within what the role allows."""
    wanted = requested or client.scopes
    granted = meet(wanted, client.scopes)
    if role is not None:
        granted = meet(granted, scope_rules.default_for_role(role))
    return granted


class OAuthClient:
    """A registered client, with the methods Authlib's ``ClientMixin`` documents."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @property
    def client_id(self) -> str:
        return self.client.client_id

    @property
    def name(self) -> str:
        return self.client.name

    @property
    def scopes(self) -> frozenset[str]:
        return self.client.scopes

    @property
    def public(self) -> bool:
        return self.client.public

    def get_client_id(self) -> str:
        return self.client.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.client.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scopes if the client may be granted all of them (all the client's
        when none are asked for); None (``invalid_scope``) otherwise."""
        wanted = scope_rules.parse(scope)
        if not wanted:
            return scope_rules.normalize(self.client.scopes)
        if not all(scope_rules.valid_scope(s) for s in wanted):
            return None
        if scope_rules.covers(self.client.scopes, wanted):
            return None
        return scope_rules.normalize(wanted)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.client.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return verify_secret(self.client, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client.public:
            return method == "none"
        return method in CONFIDENTIAL_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and bool(self.client.redirect_uris)

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "authorization_code":
            return bool(self.client.redirect_uris)
        if grant_type == "refresh_token":
            return True
        if grant_type == "client_credentials":
            return not self.client.public
        return False

    def __repr__(self) -> str:  # Authlib logs clients with %r: never the secret's hash
        return f"<OAuthClient {self.client.client_id}>"
