"""The OAuth2 authorization server, on Authlib: authorization code with PKCE (S256),
client credentials, rotating refresh tokens with reuse detection, revocation.

``server`` adapts Authlib to Starlette and to cardfile's storage; ``grants`` completes
Authlib's grants; ``models`` answers Authlib's questions about clients and holds the scope
rules of a grant; ``storage`` keeps codes and refresh tokens (hashed).
"""
