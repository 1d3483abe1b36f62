"""Tracker REST API v1, part 2 (issue #10), over real HTTP on SQLite and PostgreSQL:
documents (round trips byte for byte, folders, size limit, content checks, permission),
CreateFromResume on PDF, DOCX and text résumés the tests generate, skills (metadata and a
resource's skills, shared with the widget dialect), the long list and applicants, and
webhooks delivered to a local receiver after a change made through another dialect."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import docx
import pytest
from fpdf import FPDF

from cardfile.auth.apikeys import create_key
from cardfile.engine.commands import FieldOp, UpdateCommand
from cardfile.resume import parse_resume, resume_text
from cardfile.services import open_services
from cardfile.webhooks.config import WebhookConfig
from cardfile.webhooks.worker import DeliveryWorker
from tests.conftest import start_live
from tests.integration.test_api_support import assert_problem
from tests.integration.test_tracker_v1_world import BACKENDS, SETUP, World, _populate, _settings
from tests.integration.webhook_receiver import Receiver

MAX_FILE = 200_000
LOOPBACK = "127.0.0.1/32,::1/128"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings, drop = _settings(request, tmp_path_factory.mktemp("tracker2"), str(request.param))
    hooks = WebhookConfig(in_server=False, outbound_allow=LOOPBACK, backoff_base_s=0.02, backoff_max_s=0.05,
                          lease_s=2, poll_s=0.02, timeout_s=5, connect_timeout_s=2)  # fmt: skip
    settings = dataclasses.replace(settings, max_file_bytes=MAX_FILE, webhooks=hooks)
    svc = open_services(settings)
    server, thread, url = start_live(svc)
    world = World(url=url, key=create_key(svc.db, "tracker-tests"), svc=svc)
    _populate(world)
    _skills_setup(world)
    try:
        yield world
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        svc.close()
        if drop is not None:
            drop()


def _skills_setup(w: World) -> None:
    w.ids["area_lang"] = w.create("skill_area", name="Programming languages", category="IT", order=1)
    w.ids["area_cloud"] = w.create("skill_area", name="Cloud", category="IT", order=2)
    w.ids["area_people"] = w.create("skill_area", name="Leadership", category="Soft skills")
    w.ids["java"] = w.create("skill", name="Java", skill_type="list", skill_area=w.ids["area_lang"],
                             list_values=[{"value": "Beginner", "order": 1}, {"value": "Intermediate", "order": 2},
                                          {"value": "Expert", "order": 3}])  # fmt: skip
    w.ids["rust"] = w.create("skill", name="Rust", skill_type="quick", skill_area=w.ids["area_lang"])
    w.ids["go"] = w.create("skill", name="Go", skill_type="quick", skill_area=w.ids["area_lang"])
    w.ids["aws"] = w.create("skill", name="AWS certified", skill_type="date", skill_area=w.ids["area_cloud"])
    w.ids["motto"] = w.create("skill", name="Motto", skill_type="text", skill_area=w.ids["area_people"])
    # the world's quick skill "Python" joins an area
    w.svc.engine.update(
        UpdateCommand("skill", w.ids["python"], (FieldOp("skill_area", "set", w.ids["area_lang"]),)), SETUP
    )


def send(client: Any, method: str, path: str, body: Any = None) -> Any:
    content = None if body is None else json.dumps(body)
    headers = {"Content-Type": "application/json-patch+json"} if body is not None else {}
    return client.request(method, path, content=content, headers=headers)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def native_get(w: World, path: str) -> Any:
    with w.native() as n:
        return n.get(path)


def user_token(w: World, uid: int, scopes: str) -> str:
    with w.svc.db.write() as conn:
        return w.svc.auth.tokens.issue(conn, subject=f"user:{uid}", scopes=scopes)[0]


# -- generated résumés ------------------------------------------------------------------------

RESUME_LINES = [
    "Jane Q. Doe-Smith",
    "Senior Data Engineer",
    "jane.doe@example.com | +44 20 7946 0958 | linkedin.com/in/jane-doe-smith",
    "London, United Kingdom",
    "Profile",
    "Data engineer with ten years of experience in streaming systems.",
    "Work Experience",
    "Senior Data Engineer at Acme Analytics Ltd, Jan 2019 - Present",
    "- Built the streaming platform",
    "- Led a team of five engineers",
    "Data Engineer",
    "Globex Corporation",
    "03/2016 - 12/2018",
    "Maintained the warehouse.",
    "Initech | Junior Developer | 2014 to 2016",
    "Wrote reports.",
    "Education",
    "BSc Computer Science, University of Leeds, 2010 - 2014",
]


def resume_pdf(lines: list[str] = RESUME_LINES) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def resume_docx(lines: list[str] = RESUME_LINES) -> bytes:
    d = docx.Document()
    d.add_heading(lines[0], level=1)
    for line in lines[1:]:
        d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def resume_txt(lines: list[str] = RESUME_LINES) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def zip_bomb() -> bytes:
    """A small DOCX-looking file that unpacks to 60 MB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (60 << 20))
    return buf.getvalue()


def assert_jane(r: Any) -> None:
    assert (r.first_name, r.surname) == ("Jane", "Doe-Smith")
    assert r.email == "jane.doe@example.com"
    assert r.phone == "+44 20 7946 0958"
    assert r.linkedin == "https://www.linkedin.com/in/jane-doe-smith"
    assert r.job_title == "Senior Data Engineer"
    got = [(j.job_title, j.organization, str(j.start_date), str(j.end_date) if j.end_date else None, j.current)
           for j in r.jobs]  # fmt: skip
    assert got == [
        ("Senior Data Engineer", "Acme Analytics Ltd", "2019-01-01", None, True),
        ("Data Engineer", "Globex Corporation", "2016-03-01", "2018-12-01", False),
        ("Junior Developer", "Initech", "2014-01-01", "2016-12-01", False),
    ]
    assert r.jobs[0].description == "Built the streaming platform\nLed a team of five engineers"
    assert r.jobs[2].description == "Wrote reports."


@pytest.mark.parametrize("fmt", ["pdf", "docx", "txt"])
def test_resume_extraction_on_generated_files(fmt: str) -> None:
    data = {"pdf": resume_pdf, "docx": resume_docx, "txt": resume_txt}[fmt]()
    assert_jane(parse_resume(resume_text(data, fmt)))


def test_resume_heuristics_other_layouts() -> None:
    r = parse_resume("CURRICULUM VITAE\nName: Tom Baker\nMobile: (555) 010-0199\ntom@baker.io\n"
                     "Experience\nAcme Inc\nSales Manager\n2015 - 2020\nDid sales\nSkills\nPython\n")  # fmt: skip
    assert (r.first_name, r.surname, r.phone, r.email) == ("Tom", "Baker", "(555) 010-0199", "tom@baker.io")
    assert [(j.job_title, j.organization) for j in r.jobs] == [("Sales Manager", "Acme Inc")]
    assert r.job_title == "Sales Manager"  # from the history: no title under the name
    r = parse_resume("José Álvarez Núñez\nProduct Designer\nTel: +34 612 345 678\nEmail: jose.alvarez@example.es\n"
                     "https://www.linkedin.com/in/jose-alvarez/\nCareer History\n"
                     "Lead Designer, Studio Nube S.L., Sept 2020 - Now\nDesigned apps.\n")  # fmt: skip
    assert (r.first_name, r.surname, r.job_title) == ("José", "Álvarez Núñez", "Product Designer")
    assert (r.phone, r.linkedin) == ("+34 612 345 678", "https://www.linkedin.com/in/jose-alvarez")
    assert [(j.job_title, j.organization, str(j.start_date), j.current) for j in r.jobs] == [
        ("Lead Designer", "Studio Nube S.L.", "2020-09-01", True)]  # fmt: skip
    nothing = parse_resume("just some words 2019 - 2020\n")
    assert nothing.first_name is None and nothing.phone is None and nothing.jobs == []


# -- documents --------------------------------------------------------------------------------

DOC_RESOURCES = {"Client": ("client", {"name": "Doc Client"}), "Contact": ("contact", {"first_name": "Doc"}),
                 "Lead": ("lead", {"name": "Doc Lead"}), "Opportunity": ("opportunity", {"name": "Doc Job"}),
                 "Project": ("project", {"name": "Doc Project"}), "Resource": ("resource", {"first_name": "Doc"})}  # fmt: skip


def test_attach_document_seed_body_on_every_resource(w: World) -> None:
    seed = {
        "filename": "string",
        "documentType": "string",
        "documentData": "string",
        "recordId": 0,
        "isPrimary": True,
    }
    with w.http() as c:
        for name, (type_name, values) in DOC_RESOURCES.items():
            assert_problem(send(c, "POST", f"/api/v1/{name}/AttachDocument", seed), 400, "BAD_REQUEST")
            rid = w.create(type_name, **values)
            body = {**seed, "recordId": rid, "filename": "contract.pdf", "documentType": "Contracts",
                    "documentData": b64(resume_pdf())}  # fmt: skip
            r = send(c, "POST", f"/api/v1/{name.lower()}/attachdocument", body)
            assert r.status_code == 201, r.text
            assert r.json()["success"] is True and r.json()["message"] == "Document attached successfully"
            folders = c.get(f"/api/v1/{name}/DocumentFolders/{rid}")
            assert folders.status_code == 200 and [f["name"] for f in folders.json()] == ["Contracts"]
            # the document is a record: history and the native API see it
            doc = native_get(w, f"/api/records/document/{r.json()['id']}").json()
            assert (doc["record_type"], doc["record_id"], doc["file_type"]) == (type_name, rid, "pdf")
        assert c.get("/api/v1/Client/DocumentFolders/999999").status_code == 204
        empty = w.create("client", name="No docs")
        assert c.get(f"/api/v1/Client/DocumentFolders/{empty}").status_code == 204
        assert_problem(send(c, "POST", "/api/v1/Invoice/AttachDocument", seed), 404, "NOT_FOUND")
        paths = c.get("/swagger/v1/swagger.json").json()["paths"]
        assert {
            "/api/v1/{resource}/AttachDocument",
            "/api/v1/Resource/CreateFromResume",
            "/api/v1/Webhook",
        } <= set(paths)


def test_resource_document_round_trip_byte_for_byte(w: World) -> None:
    rid = w.create("resource", first_name="Round", surname="Trip")
    other = w.create("resource", first_name="Other")
    pdf, docx_bytes = resume_pdf(), resume_docx()
    with w.http() as c:
        ids = []
        for filename, data, primary in (("cv.pdf", pdf, True), ("photo.png", PNG, False),
                                        ("letter.docx", docx_bytes, True), ("notes", b"plain notes\n", False)):  # fmt: skip
            r = send(c, "POST", "/api/v1/Resource/AttachDocument", {"filename": filename, "documentType": "CV",
                     "documentData": b64(data), "recordId": rid, "isPrimary": primary})  # fmt: skip
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        listed = c.get(f"/api/v1/Resource/{rid}/Documents").json()
        assert [d["documentId"] for d in listed] == ids
        assert [d["fileType"] for d in listed] == ["pdf", "png", "docx", "txt"]
        assert [d["filename"] for d in listed] == ["cv.pdf", "photo.png", "letter.docx", "notes.txt"]
        assert [d["isPrimary"] for d in listed] == [False, False, True, False]  # one primary: the last
        assert len({d["folderId"] for d in listed}) == 1 and listed[0]["history"]["createdOn"].endswith("Z")
        for doc_id, data in zip(ids, (pdf, PNG, docx_bytes, b"plain notes\n"), strict=True):
            got = c.get(f"/api/v1/Resource/{rid}/Document/{doc_id}")
            assert got.status_code == 200
            assert base64.b64decode(got.json()["filecontent"]) == data
            assert set(got.json()) == {"documentId", "filename", "isPrimary", "documentType", "description",
                                       "folderId", "fileType", "history", "filecontent"}  # fmt: skip
        # a document is reached only through its own record
        assert c.get(f"/api/v1/Resource/{other}/Document/{ids[0]}").status_code == 204
        assert c.get(f"/api/v1/Resource/{rid}/Document/999999").status_code == 204
        assert c.get(f"/api/v1/Resource/{other}/Documents").status_code == 204
        assert c.get("/api/v1/Resource/999999/Documents").status_code == 204


def test_document_permission_follows_the_record(w: World) -> None:
    rid = w.create("resource", first_name="Secret")
    with w.http() as c:
        doc = send(c, "POST", "/api/v1/Resource/AttachDocument", {"filename": "cv.txt", "documentType": "CV",
                   "documentData": b64(b"private"), "recordId": rid, "isPrimary": True}).json()["id"]  # fmt: skip
    clients_only = user_token(w, w.ids["owner"], "records.client.READ records.document.READ")
    with w.http(token=clients_only) as c:
        assert_problem(c.get(f"/api/v1/Resource/{rid}/Document/{doc}"), 403, "INSUFFICIENT_SCOPE")
        assert_problem(c.get(f"/api/v1/Resource/{rid}/Documents"), 403, "INSUFFICIENT_SCOPE")
        assert_problem(c.get(f"/api/v1/Resource/DocumentFolders/{rid}"), 403, "INSUFFICIENT_SCOPE")
    readers = user_token(w, w.ids["owner"], "records.resource.READ")
    with w.http(token=readers) as c:  # the record decides: no scope on documents needed to read them
        assert (
            base64.b64decode(c.get(f"/api/v1/Resource/{rid}/Document/{doc}").json()["filecontent"])
            == b"private"
        )
        r = send(c, "POST", "/api/v1/Resource/AttachDocument",
                 {"filename": "x.txt", "documentData": b64(b"x"), "recordId": rid})  # fmt: skip
        assert_problem(r, 403, "INSUFFICIENT_SCOPE")  # attaching changes the record
    # two standard users: each reads the record's documents through Tracker, but the native
    # API shows a standard user only the document records they attached
    alice = user_token(w, w.ids["owner"], "records.ALL")
    bob = user_token(w, w.ids["system"], "records.ALL")
    with w.http(token=alice) as c:
        mine = send(c, "POST", "/api/v1/Resource/AttachDocument", {"filename": "a.txt", "documentData": b64(b"alice"),
                    "recordId": rid, "isPrimary": True}).json()["id"]  # fmt: skip
    with w.http(token=bob) as c:
        theirs = send(c, "POST", "/api/v1/Resource/AttachDocument", {"filename": "b.txt", "documentData": b64(b"bob"),
                      "recordId": rid, "isPrimary": True}).json()["id"]  # fmt: skip
        listed = {d["documentId"]: d["isPrimary"] for d in c.get(f"/api/v1/Resource/{rid}/Documents").json()}
        assert listed == {doc: False, mine: False, theirs: True}  # bob's primary demoted alice's
        assert c.get(f"/api/v1/Resource/{rid}/Document/{mine}").status_code == 200
    with w.native() as n:
        n.headers["Authorization"] = f"Bearer {bob}"
        assert n.get(f"/api/records/document/{theirs}").status_code == 200
        assert n.get(f"/api/records/document/{mine}").status_code == 404


def test_document_size_limit_and_content_checks(w: World) -> None:
    rid = w.create("client", name="Limits")

    def attach(filename: str, data: bytes) -> Any:
        return send(c, "POST", "/api/v1/Client/AttachDocument",
                    {"filename": filename, "documentData": b64(data), "recordId": rid})  # fmt: skip

    with w.http() as c:
        assert_problem(attach("big.txt", b"a" * (MAX_FILE + 10)), 413, "PAYLOAD_TOO_LARGE")  # decoded size
        assert_problem(attach("bigger.txt", b"a" * (MAX_FILE * 2)), 413, "PAYLOAD_TOO_LARGE")  # body size
        assert attach("fits.txt", b"a" * MAX_FILE).status_code == 201
        for filename, data, code in (
            ("cv.pdf", PNG, "FILE_TYPE_MISMATCH"), ("photo.png", resume_pdf(), "FILE_TYPE_MISMATCH"),
            ("setup.exe", b"MZ\x90\x00" + bytes(100), "UNSUPPORTED_FILE_TYPE"),
            ("tool.pdf", b"\x7fELF\x02\x01" + bytes(100), "UNSUPPORTED_FILE_TYPE"),
            ("run.sh", b"#!/bin/sh\nrm -rf /\n", "UNSUPPORTED_FILE_TYPE"),
            ("page.txt", b"<!DOCTYPE html><html><script>x</script></html>", "UNSUPPORTED_FILE_TYPE"),
            ("blob.bin", bytes(range(256)) * 4, "UNSUPPORTED_FILE_TYPE"), ("empty.txt", b"", None),
        ):  # fmt: skip
            r = attach(filename, data)
            if code is None:
                assert_problem(r, 400, "BAD_REQUEST")
            else:
                assert_problem(r, 422, "VALIDATION_FAILED")
                assert r.json()["errors"][0]["code"] == code, r.json()
        assert_problem(send(c, "POST", "/api/v1/Client/AttachDocument",
                            {"filename": "a.txt", "documentData": "@@@", "recordId": rid}), 400, "BAD_REQUEST")  # fmt: skip
        r = send(c, "POST", "/api/v1/Client/AttachDocument",
                 {"filename": "a.txt", "documentData": b64(b"x"), "recordId": 999999})  # fmt: skip
        assert_problem(r, 400, "BAD_REQUEST")  # no such record


# -- CreateFromResume -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["pdf", "docx", "txt"])
def test_create_from_resume(w: World, fmt: str) -> None:
    data = {"pdf": resume_pdf, "docx": resume_docx, "txt": resume_txt}[fmt]()
    opp = w.create("opportunity", name=f"Data role {fmt}")
    body = {"resourceStatusId": w.ids["avail"], "opportunityId": str(opp), "source": "Website", "resource": 0,
            "list": "", "fileName": f"jane.{fmt}", "fileData": b64(data), "department": "Sales",
            "userId": w.ids["owner"], "resourceSource": "Job board"}  # fmt: skip
    with w.http() as c:
        r = send(c, "POST", "/api/v1/Resource/CreateFromResume", body)
        assert r.status_code == 201, r.text
        out = r.json()
        assert (
            out["success"] is True
            and out["returnAction"] == "created"
            and "email" in out["returnDescription"]
        )
        rid = out["resourceId"]
        res = c.get(f"/api/v1/Resource/{rid}").json()
        assert (res["firstName"], res["surname"], res["jobTitle"]) == (
            "Jane",
            "Doe-Smith",
            "Senior Data Engineer",
        )
        assert res["contactDetails"]["email"] == "jane.doe@example.com"
        assert res["contactDetails"]["telephone"] == "+44 20 7946 0958"
        assert res["linkedInUrl"] == "https://www.linkedin.com/in/jane-doe-smith"
        assert res["status"]["id"] == w.ids["avail"] and res["department"]["id"] == w.ids["sales"]
        assert res["source"] == "Website" and res["owners"][0]["ownerId"] == w.ids["owner"]
        hist = res["fullEmploymentHistory"]
        assert [(h["jobTitle"], h["organization"]) for h in hist] == [
            ("Senior Data Engineer", "Acme Analytics Ltd"), ("Data Engineer", "Globex Corporation"),
            ("Junior Developer", "Initech")]  # fmt: skip
        assert hist[1]["startDate"].startswith("2016-03-01") and hist[0]["endDate"] is None
        docs = c.get(f"/api/v1/Resource/{rid}/Documents").json()
        assert [(d["filename"], d["isPrimary"], d["documentType"]) for d in docs] == [
            (f"jane.{fmt}", True, "Resume")
        ]
        got = c.get(f"/api/v1/Resource/{rid}/Document/{docs[0]['documentId']}").json()
        assert base64.b64decode(got["filecontent"]) == data
        applicants = c.get(f"/api/v1/Opportunity/{opp}/Applicants").json()
        assert [a["resourceId"] for a in applicants] == [rid] and applicants[0]["isApplicant"] is True


def test_create_from_resume_shortlist_update_and_errors(w: World) -> None:
    opp = w.create("opportunity", name="Shortlist role")
    existing = w.create("resource", first_name="Janet", email="kept@example.com")
    with w.http() as c:
        r = send(c, "POST", "/api/v1/Resource/CreateFromResume",
                 {"fileName": "cv.txt", "fileData": b64(resume_txt()), "opportunityId": opp, "list": "Shortlist"})  # fmt: skip
        assert r.status_code == 201, r.text
        assert [x["resourceId"] for x in c.get(f"/api/v1/OpportunityResource/Shortlist/{opp}").json()] == [
            r.json()["resourceId"]]  # fmt: skip
        r = send(c, "POST", "/api/v1/Resource/CreateFromResume",
                 {"fileName": "cv.docx", "fileData": b64(resume_docx()), "resource": existing})  # fmt: skip
        assert (
            r.status_code == 201
            and r.json()["resourceId"] == existing
            and r.json()["returnAction"] == "updated"
        )
        res = c.get(f"/api/v1/Resource/{existing}").json()
        assert res["firstName"] == "Janet" and res["contactDetails"]["email"] == "kept@example.com"  # kept
        assert res["surname"] == "Doe-Smith" and len(res["fullEmploymentHistory"]) == 3  # filled in
        for body, status in (
            ({"fileName": "x.png", "fileData": b64(PNG)}, 422),
            ({"fileName": "x.txt", "fileData": b64(b"nothing useful here")}, 422),
            ({"fileName": "x.pdf", "fileData": b64(b"%PDF-1.4 broken")}, 422),
            ({"fileName": "bomb.docx", "fileData": b64(zip_bomb())}, 422),
            ({"fileName": "cv.txt", "fileData": b64(resume_txt()), "opportunityId": "999999"}, 400),
            ({"fileName": "cv.txt", "fileData": b64(resume_txt()), "department": "Nowhere"}, 400),
            ({"fileName": "cv.txt"}, 400),
        ):
            assert send(c, "POST", "/api/v1/Resource/CreateFromResume", body).status_code == status, body


# -- skills -------------------------------------------------------------------------------------


def test_skills_metadata(w: World) -> None:
    with w.http() as c:
        h = c.get("/api/v1/MetaData/Skills/Hierarchy").json()
        assert [x["category"] for x in h] == ["IT", "Soft skills"]
        assert [a["name"] for a in h[0]["areas"]] == ["Programming languages", "Cloud"]
        area = w.ids["area_lang"]
        page1 = c.get(f"/api/v1/MetaData/Skills/Areas/{area}/Skills?pageNumber=1&maxResults=2").json()
        page2 = c.get(f"/api/v1/MetaData/Skills/Areas/{area}/Skills?pageNumber=2&maxResults=2").json()
        assert [s["skillName"] for s in page1 + page2] == ["Go", "Java", "Python", "Rust"]
        assert (
            c.get(f"/api/v1/MetaData/Skills/Areas/{area}/Skills?pageNumber=3&maxResults=2").status_code == 204
        )
        java = next(s for s in page1 if s["skillName"] == "Java")
        assert java["skillType"] == "list" and java["skillListId"] == w.ids["java"] and java["areaId"] == area
        assert c.get(f"/api/v1/MetaData/Skills/Areas/{area}/Count").json() == {"areaId": area, "count": 4}
        assert c.get("/api/v1/MetaData/Skills/Areas/999999/Count").status_code == 204
        found = c.get("/api/v1/MetaData/Skills/Search?searchTerm=A&maxResults=10").json()
        assert [s["skillName"] for s in found] == ["AWS certified", "Java"]
        assert c.get("/api/v1/MetaData/Skills/Search?searchTerm=zzz").status_code == 204
        lst = c.get(f"/api/v1/MetaData/Skills/List/{w.ids['java']}").json()
        assert lst["name"] == "Java" and [v["value"] for v in lst["values"]] == [
            "Beginner",
            "Intermediate",
            "Expert",
        ]
        assert c.get(f"/api/v1/MetaData/Skills/List/{w.ids['rust']}").status_code == 204  # not a list
        assert_problem(c.get("/api/v1/MetaData/Skills/Search?maxResults=0"), 400, "BAD_REQUEST")


def widget(w: World, rid: int, skills: list[dict[str, Any]]) -> Any:
    body = {"trackerrms": {"updateRecord": {"credentials": {"oauthtoken": w.key},
            "instructions": {"recordtype": "R", "recordid": rid}, "skills": skills}}}  # fmt: skip
    with w.native() as n:
        return n.post("/tracker/api/widget/updateRecord", json=body).json()


def test_resource_skills_seed_bodies_and_widget_both_ways(w: World) -> None:
    rid = w.create("resource", first_name="Skilled")
    with w.http() as c:
        lst = c.get(f"/api/v1/MetaData/Skills/List/{w.ids['java']}").json()
        expert = next(v["skillValueId"] for v in lst["values"] if v["value"] == "Expert")
        # the seed's POST sample: a skill list value by id and text, a quick skill by "Yes"
        seed = {"skills": [{"skillId": w.ids["java"], "skillValueId": expert, "skillValue": "Expert"},
                           {"skillId": w.ids["rust"], "skillValue": "Yes"}]}  # fmt: skip
        r = send(c, "POST", f"/api/v1/Resource/{rid}/Skills", seed)
        assert r.status_code == 201 and r.json() == {
            "id": rid,
            "success": True,
            "message": "Skills added successfully",
        }
        got = c.get(f"/api/v1/Resource/{rid}/Skills").json()["skills"]
        assert got == [
            {"skillId": w.ids["rust"], "skillName": "Rust", "skillValueId": None, "skillValue": "Yes", "skillType": "quick"},
            {"skillId": w.ids["java"], "skillName": "Java", "skillValueId": expert, "skillValue": "Expert", "skillType": "list"},
        ]  # fmt: skip
        # the same data through the native API and through Resource GET's quickSkills
        native = native_get(w, f"/api/records/resource/{rid}").json()
        assert native["quick_skills"] == [w.ids["rust"]] and native["skills"][0]["value"] == "Expert"
        assert [q["id"] for q in c.get(f"/api/v1/Resource/{rid}").json()["quickSkills"]] == [w.ids["rust"]]
        # the widget changes the list value and adds a date; REST reads them back (the row keeps its id)
        row_id = native["skills"][0]["id"]
        assert widget(w, rid, [{"id": w.ids["java"], "value": "intermediate"}, {"id": w.ids["aws"], "value": "2020-12-31"},
                               {"id": w.ids["rust"], "value": "No"}, {"id": w.ids["go"], "value": "Yes"}])["status"] == 0  # fmt: skip
        one = c.get(f"/api/v1/Resource/{rid}/Skills/{w.ids['java']}").json()
        assert one["skillValue"] == "Intermediate" and one["skillValueId"] != expert
        assert native_get(w, f"/api/records/resource/{rid}").json()["skills"][0]["id"] == row_id
        assert c.get(f"/api/v1/Resource/{rid}/Skills/{w.ids['aws']}").json()["skillValue"] == "2020-12-31"
        assert c.get(f"/api/v1/Resource/{rid}/Skills/{w.ids['rust']}").status_code == 204
        assert c.get(f"/api/v1/Resource/{rid}/Skills/{w.ids['go']}").json()["skillValue"] == "Yes"
        # POST adds or updates, leaving the others alone
        r = send(c, "POST", f"/api/v1/Resource/{rid}/Skills",
                 {"skills": [{"skillId": w.ids["motto"], "skillValue": "Ship it"}, {"skillName": "java", "skillValue": "Expert"}]})  # fmt: skip
        assert r.status_code == 201, r.text
        vals = {
            s["skillName"]: s["skillValue"] for s in c.get(f"/api/v1/Resource/{rid}/Skills").json()["skills"]
        }
        assert vals == {"Go": "Yes", "Java": "Expert", "AWS certified": "2020-12-31", "Motto": "Ship it"}
        # PUT replaces all (the seed's PUT sample shape)
        r = send(c, "PUT", f"/api/v1/Resource/{rid}/Skills",
                 {"skills": [{"skillId": w.ids["java"], "skillValueId": expert, "skillValue": "Expert"},
                             {"skillId": w.ids["python"], "skillValue": "Yes"}]})  # fmt: skip
        assert r.status_code == 200 and r.json()["message"] == "Skills updated successfully"
        vals = {
            s["skillName"]: s["skillValue"] for s in c.get(f"/api/v1/Resource/{rid}/Skills").json()["skills"]
        }
        assert vals == {"Python": "Yes", "Java": "Expert"}
        # the widget sees what REST set: "No" clears the quick skill REST set
        assert widget(w, rid, [{"id": w.ids["python"], "value": "No"}])["status"] == 0
        assert c.get(f"/api/v1/Resource/{rid}/Skills/{w.ids['python']}").status_code == 204
        # DELETE one, then all
        assert c.delete(f"/api/v1/Resource/{rid}/Skills/{w.ids['java']}").status_code == 200
        assert c.delete(f"/api/v1/Resource/{rid}/Skills/{w.ids['java']}").status_code == 204
        send(c, "POST", f"/api/v1/Resource/{rid}/Skills", {"skills": [{"skillId": w.ids["go"]}]})
        assert c.delete(f"/api/v1/Resource/{rid}/Skills").status_code == 200
        assert c.get(f"/api/v1/Resource/{rid}/Skills").status_code == 204
        # errors: every bad item at once, nothing written
        r = send(c, "POST", f"/api/v1/Resource/{rid}/Skills",
                 {"skills": [{"skillId": 999999, "skillValue": "x"}, {"skillId": w.ids["java"], "skillValue": "Guru"},
                             {"skillId": w.ids["aws"], "skillValue": "31/12/2020"}, {"skillId": w.ids["go"]}]})  # fmt: skip
        assert_problem(r, 422, "VALIDATION_FAILED")
        assert [e["field"] for e in r.json()["errors"]] == [
            "skills[0].skillId",
            "skills[1].skillValue",
            "skills[2].skillValue",
        ]
        assert c.get(f"/api/v1/Resource/{rid}/Skills").status_code == 204
        assert_problem(
            send(c, "POST", f"/api/v1/Resource/{rid}/Skills", {"skills": [{"id": 1}]}), 400, "BAD_REQUEST"
        )
        assert send(c, "PUT", "/api/v1/Resource/999999/Skills", {"skills": []}).status_code == 204
        assert c.get("/api/v1/Resource/999999/Skills").status_code == 204


# -- long list and applicants -----------------------------------------------------------------


def test_longlist_and_applicants(w: World) -> None:
    opp = w.create("opportunity", name="Long list role")
    a = w.create("resource", first_name="Ann", surname="Long", email="ann@example.com")
    b = w.create("resource", first_name="Bob", surname="Long")
    with w.http() as c:
        assert c.get(f"/api/v1/Opportunity/{opp}/Longlist").status_code == 204
        r = send(
            c,
            "POST",
            "/api/v1/Opportunity/Longlist",
            {"resourceId": a, "opportunityId": opp, "note": "strong"},
        )
        assert r.status_code == 201 and r.json()["success"] is True
        assert send(c, "POST", "/api/v1/Opportunity/Longlist",
                    {"resourceId": b, "opportunityIds": [opp], "isApplicant": True}).status_code == 201  # fmt: skip
        assert_problem(send(c, "POST", "/api/v1/Opportunity/Longlist", {"resourceId": a, "opportunityId": opp}),
                       409, "CONFLICT")  # fmt: skip
        rows = c.get(f"/api/v1/Opportunity/{opp}/Longlist").json()
        assert [(x["resourceId"], x["displayAs"], x["note"]) for x in rows] == [
            (a, "Ann Long", "strong"),
            (b, "Bob Long", None),
        ]
        assert [x["resourceId"] for x in c.get(f"/api/v1/Opportunity/{opp}/Applicants").json()] == [b]
        assert c.delete(f"/api/v1/Opportunity/{opp}/longlist/resource/{a}").json()["success"] is True
        assert c.delete(f"/api/v1/Opportunity/{opp}/LONGLIST/resource/{a}").status_code == 204
        assert [x["resourceId"] for x in c.get(f"/api/v1/Opportunity/{opp}/Longlist").json()] == [b]
        assert c.get("/api/v1/Opportunity/999999/Applicants").status_code == 204
        for body in ({"resourceId": 999999, "opportunityId": opp}, {"resourceId": a, "opportunityId": 999999},
                     {"resourceId": a}, {"resourceId": a, "opportunityId": opp, "extra": 1}):  # fmt: skip
            assert_problem(send(c, "POST", "/api/v1/Opportunity/Longlist", body), 400, "BAD_REQUEST")


# -- webhooks ---------------------------------------------------------------------------------


def test_webhook_api_and_delivery_after_a_widget_change(w: World) -> None:
    receiver = Receiver().start()
    worker = DeliveryWorker(w.svc.db, w.svc.settings.webhooks, name="test-worker")
    try:
        with w.http() as c:
            assert c.get("/api/v1/Webhook/Meta/Actions").json() == [
                {"id": 1, "action": "created"}, {"id": 2, "action": "updated"}, {"id": 3, "action": "deleted"}]  # fmt: skip
            assert c.get("/api/v1/Webhook/List").status_code == 204
            seed = {"id": 0, "url": receiver.url, "action": "updated", "recordType": "Resource"}
            r = send(c, "POST", "/api/v1/Webhook", seed)
            assert r.status_code == 201, r.text
            hook = r.json()["id"]
            other = send(
                c, "POST", "/api/v1/Webhook", {**seed, "action": "Deleted", "recordType": "R"}
            ).json()["id"]
            got = c.get(f"/api/v1/Webhook/{hook}").json()
            assert {k: got[k] for k in ("id", "url", "recordType", "action")} == {
                "id": hook, "url": receiver.url, "recordType": "Resource", "action": "updated"}  # fmt: skip
            assert got["created"].endswith("Z") and got["userId"] == 0  # an API key is no user
            assert [h["id"] for h in c.get("/api/v1/Webhook/List").json()] == [hook, other]
            assert [h["action"] for h in c.get(f"/api/v1/Webhook/Actions/{hook}").json()] == [
                "updated",
                "deleted",
            ]
            # the engine's subscription behind it
            sub = native_get(w, f"/api/webhooks/{hook}").json()
            assert sub["event_types"] == ["record.updated"] and sub["record_types"] == ["resource"]
            # a change through the widget reaches the Tracker hook
            rid = w.create("resource", first_name="Hooked")
            with w.native() as n:
                out = n.post("/tracker/api/widget/updateRecord", json={"trackerrms": {"updateRecord": {
                    "credentials": {"oauthtoken": w.key}, "instructions": {"recordtype": "R", "recordid": rid},
                    "updates": [{"column": "jobtitle", "value": "Hook Tester"}]}}}).json()  # fmt: skip
            assert out["status"] == 0
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not receiver.snapshot():
                worker.run_once()
                time.sleep(0.02)
            received = receiver.wait_for(lambda g: len(g) >= 1)
            payload = received[0].json
            assert payload["type"] == "record.updated" and payload["data"]["id"] == rid
            assert payload["data"]["channel"] == "tracker-widget"
            assert {"field": "job_title", "old": None, "new": "Hook Tester"} in payload["data"]["changes"]
            # update (id in the body), delete
            r = send(c, "PATCH", "/api/v1/Webhook", {"id": hook, "url": receiver.url, "action": "created",
                                                      "recordType": "Contact"})  # fmt: skip
            assert r.status_code == 200 and r.json()["id"] == hook
            assert c.get(f"/api/v1/Webhook/{hook}").json()["recordType"] == "Contact"
            assert send(c, "PATCH", "/api/v1/Webhook", {"id": 999999, "action": "created"}).status_code == 204
            assert c.delete(f"/api/v1/Webhook/{hook}").status_code == 200
            assert c.get(f"/api/v1/Webhook/{hook}").status_code == 204
            assert c.delete(f"/api/v1/Webhook/{hook}").status_code == 204
            c.delete(f"/api/v1/Webhook/{other}")
            # bad bodies
            for body in ({**seed, "action": "renamed"}, {**seed, "recordType": "Spaceship"}, {**seed, "url": "ftp://x"},
                         {**seed, "url": "http://169.254.169.254/latest"}, {**seed, "extra": 1}):  # fmt: skip
                assert_problem(send(c, "POST", "/api/v1/Webhook", body), 400, "BAD_REQUEST")
        # managing webhooks is for admins with webhooks.ALL
        standard = user_token(w, w.ids["owner"], "records.ALL webhooks.ALL")
        with w.http(token=standard) as c:
            assert_problem(send(c, "POST", "/api/v1/Webhook", seed), 403, "PERMISSION_DENIED")
        admin_no_scope = user_token(w, w.ids["admin"], "records.ALL")
        with w.http(token=admin_no_scope) as c:
            assert_problem(c.get("/api/v1/Webhook/List"), 403, "INSUFFICIENT_SCOPE")
        admin = user_token(w, w.ids["admin"], "records.ALL webhooks.ALL")
        with w.http(token=admin) as c:
            made = send(c, "POST", "/api/v1/Webhook", seed).json()["id"]
            assert c.get(f"/api/v1/Webhook/{made}").json()["userId"] == w.ids["admin"]
            c.delete(f"/api/v1/Webhook/{made}")
    finally:
        worker.stop()
        receiver.stop()
