"""What a response links to (``engine/names.py``): ``links_of`` collects linked records by
target, users (sub-record columns included) and actors, as a pure function."""

from __future__ import annotations

from cardfile.engine.names import links_of
from tests.unit.dialects.helpers import record_type


def test_the_links_of_tracker_clients() -> None:
    rt = record_type("tracker", "client")
    records = [
        {"id": 1, "created_by": "jo@example.com", "modified_by": "sam@example.com", "status": 3,
         "parent_client": 7, "client_types": [4, 5], "owner": 2,
         "owners": [{"id": 9, "user": 2, "rank": 1}, {"id": 10, "user": 6}]},
        {"id": 2, "created_by": "jo@example.com", "modified_by": None, "status": None, "territory": 11},
    ]  # fmt: skip
    links = links_of(rt, records)
    assert links.records["setting"] == {3, 4, 5, 11}
    assert links.records["client"] == {7}
    assert links.users == {2, 6}
    assert links.actors == {"jo@example.com", "sam@example.com"}
