"""Behaviour of the ``tracker`` pack that both Tracker dialects share (REST v1 and the widget)."""

__all__ = ["RECORD_TYPES"]

# Tracker's record-type letter -> pack type (docs/dialects/tracker-pack.md, X-1): the
# widget's ``recordtype``, REST v1's ``MetaData/recordTypes``
RECORD_TYPES = {
    "C": "client",
    "N": "contact",
    "L": "lead",
    "O": "opportunity",
    "P": "project",
    "T": "ticket",
    "R": "resource",
    "X": "opportunity_resource",
}
