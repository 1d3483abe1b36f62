"""The authorization code grant of the vendor paths (Tracker's ``/tracker/oAuth2/*``,
Zoho's ``/zoho/oauth/v2/*``): PKCE optional for a confidential client, and only for it.

A vendor's server-side integrations send ``client_id``, ``client_secret``,
``redirect_uri`` and a code, never PKCE. ``VendorAuthorizationServer`` is cardfile's
server (same clients, codes, refresh-token families, scopes and signing keys) with the
code grant's PKCE extension replaced by ``OptionalS256CodeChallenge``. The rules, which
``tests/integration/test_zoho_oauth.py`` checks:

* Authorization request: a ``code_challenge`` must be S256 (as at ``/oauth2/authorize``)
  and is stored with the code. Without one, only a confidential client (one with a
  secret) is served; a public client is refused with ``invalid_request``.
* Token request on a vendor path: a code issued *with* a challenge needs its
  ``code_verifier``, whoever the client (no downgrade: RFC 9700 §2.1.1, §4.8). A code
  issued *without* one is redeemed only by a confidential client authenticated with its
  secret (``client_secret_basic`` or ``client_secret_post``); a ``code_verifier`` sent
  with it is refused.
* ``/oauth2/token`` redeems no code issued without a challenge (``S256CodeChallenge``):
  the generic endpoints keep requiring PKCE of every client.
* A code without PKCE issued on one vendor path may be redeemed on the other vendor's
  token path: both check the same client, secret, redirect URI and scopes and issue the
  same tokens, so the other path grants nothing more.

Refresh tokens, client credentials and revocation are the generic grants unchanged.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer, InvalidRequestError, UnauthorizedClientError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from sqlalchemy.engine import Connection

from cardfile.auth.clients import get_client
from cardfile.auth.oauth2.grants import CodeGrant, MachineGrant, RotatingRefreshGrant
from cardfile.auth.oauth2.models import CONFIDENTIAL_AUTH_METHODS, OAuthClient
from cardfile.auth.oauth2.server import AuthServices, CardfileAuthorizationServer
from cardfile.errors import NotFound

__all__ = ["OptionalS256CodeChallenge", "VendorAuthorizationServer"]


class OptionalS256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only; optional for a confidential client, required of a public one,
    and always checked for a code issued with a challenge."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": compare_s256_code_challenge}

    def validate_code_challenge(self, grant: Any, redirect_uri: Any) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") and not data.get("code_challenge_method"):
            client: OAuthClient = grant.request.client
            if client.public:
                raise InvalidRequestError(
                    "PKCE is required of a public client: send code_challenge and code_challenge_method=S256"
                )
            return  # a confidential client redeems the code with its secret
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        request = grant.request
        if (
            not request.authorization_code.code_challenge
            and request.auth_method not in CONFIDENTIAL_AUTH_METHODS
        ):
            raise UnauthorizedClientError(
                "this code was issued without PKCE: only a confidential client redeems it, with its secret"
            )
        # a code with a challenge needs its verifier; one without refuses a verifier
        super().validate_code_verifier(grant, result)


class VendorAuthorizationServer(CardfileAuthorizationServer):
    """cardfile's server for a vendor path: the code grant with optional PKCE (see the
    module docstring), rotating refresh tokens and, when asked, client credentials. With
    ``client_names``, a ``client_id`` that is no client's id may be a client's name (Tracker's
    integrations send the fixed ``EvoApi_1.0``)."""

    def __init__(
        self,
        svc: AuthServices,
        conn: Connection,
        *,
        client_credentials: bool = False,
        client_names: bool = False,
    ) -> None:
        AuthorizationServer.__init__(self, scopes_supported=None)
        self.svc = svc
        self.conn = conn
        self.client_names = client_names
        self._clients: dict[str, OAuthClient | None] = {}
        self.register_token_generator("default", self.generate_bearer_token)
        self.register_grant(CodeGrant, [OptionalS256CodeChallenge(required=True)])
        if client_credentials:
            self.register_grant(MachineGrant)
        self.register_grant(RotatingRefreshGrant)

    def query_client(self, client_id: Any) -> OAuthClient | None:
        found = super().query_client(client_id)
        if found is not None or not self.client_names:
            return found
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 200:
            return None
        try:
            client = get_client(self.conn, name=client_id)
        except NotFound:
            return None
        return OAuthClient(client) if not client.disabled else None
