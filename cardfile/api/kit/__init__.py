"""The HTTP kit every API uses: the native API under ``/api`` and each dialect alike.

One module per concept, so a dialect keeps only its vendor specifics (its error shape,
its header spellings):

| module | holds |
|---|---|
| ``services.py`` | the ``Services`` of a request's app |
| ``body.py`` | reading a body: bounded size, accepted media types, JSON with clear errors |
| ``files.py`` | a file sent base64-encoded in a JSON body: decoded, checked, kept in the file store |
| ``patch.py`` | a JSON Patch (RFC 6902) body as the partial object it stands for |
| ``credentials.py`` | the bearer credential, checked later inside the unit of work |
| ``ratelimit.py`` | counting a request in its route group; the ``RateLimit`` headers |
| ``units.py`` | running a read or a write in its unit of work, with ``Idempotency-Key`` replay |
| ``webhooks.py`` | a subscription's URL checked before it is saved (admins only) |
| ``conditions.py`` | ``If-Match`` / ``If-Unmodified-Since``; ``ETag`` and ``Last-Modified`` |
| ``responses.py`` | JSON responses |
| ``guard.py`` | one error guard: an error of any kind rendered in the caller's shape |
| ``mount.py`` | one way to mount an API: a sub-application with its exception handlers |
| ``routes.py`` | the route class that serves plain routes without FastAPI's dependency solving |
| ``paths.py`` | paths matched to their routes whatever their case (Tracker's) |
"""
