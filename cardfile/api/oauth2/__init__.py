"""HTTP routes of the OAuth2 authorization server (``/oauth2/...``) and its login page."""

from cardfile.api.oauth2.routes import router

__all__ = ["router"]
