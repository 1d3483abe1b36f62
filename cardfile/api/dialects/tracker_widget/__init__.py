"""The TrackerRMS widget dialect: ``POST /tracker/api/widget/updateRecord`` and ``getSettings``.

A thin translator over the one engine, on the records of the ``tracker`` pack that the
Tracker REST v1 dialect serves too (``docs/dialects/tracker-widget.md``).
"""

from cardfile.api.dialects.tracker_widget.routes import PREFIX, create_app, router

__all__ = ["PREFIX", "create_app", "router"]
