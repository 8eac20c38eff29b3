"""The OpenAPI 3.1 document of /api/v1 (later features add their paths here)."""
from __future__ import annotations

from flask import jsonify

from crm.api import bp
from crm.leads.forms import LeadForm
from crm.leads.pipeline import Stage
from crm.scoring.scoring import FACTOR_KEYS

_NUM = {"type": ["number", "null"]}
_STR = {"type": ["string", "null"]}
_LEAD_INPUT = {
    "type": "object",
    "properties": {
        "company_name": {"type": "string", "maxLength": 200},
        "uscc": {**_STR, "description": "统一社会信用代码, 18 characters with a valid check digit"},
        "project_name": _STR, "chain_id": {"type": ["integer", "null"]},
        "chain_node_id": {"type": ["integer", "null"]}, "source_id": {"type": ["integer", "null"]},
        "source_kind": {"enum": ["hometown", "chamber", "advisor", "intermediary", "client", "online", "event", None]},
        "origin_region": _STR,
        "planned_investment_wan": {**_NUM, "minimum": 0}, "fixed_asset_investment_wan": {**_NUM, "minimum": 0},
        "land_area_mu": {**_NUM, "exclusiveMinimum": 0}, "expected_output_wan": {**_NUM, "minimum": 0},
        "expected_tax_wan": {**_NUM, "minimum": 0}, "high_tech": {"type": ["boolean", "null"]},
        "specialized": {"type": ["boolean", "null"]}, "patents": {"type": ["integer", "null"], "minimum": 0},
        "rd_ratio": {**_NUM, "minimum": 0, "maximum": 100}, "jobs": {"type": ["integer", "null"], "minimum": 0},
        "owner_id": {"type": ["integer", "null"]}, "created_on": {**_STR, "format": "date"}, "note": _STR,
        "version": {"type": "integer", "description": "the version you read; a stale one gives 409"},
        "confirm_duplicate": {"type": "boolean", "description": "record even if another unit follows the company"},
    },
}
assert set(LeadForm.LEAD_FIELDS) <= set(_LEAD_INPUT["properties"])
# Contacts (crm.contacts): phone, WeChat, e-mail and note are personal data, sent only to the
# owner unit, leaders and administrators (contacts_personal_data says which); for other readers
# those keys are absent.
_CONTACT_INPUT = {"type": "object", "properties": {
    "name": {"type": "string", "maxLength": 60}, "title": {**_STR, "maxLength": 60},
    "phone": {**_STR, "description": "mobile (11 digits starting with 1) or landline with area code; spaces, "
                                     "dashes and +86/0086 are accepted and normalised (13812345678, 0598-1234567)"},
    "wechat": {**_STR, "maxLength": 60}, "email": {**_STR, "format": "email"}, "note": _STR,
    "is_primary": {"type": "boolean", "description": "make it the primary contact (a lead's first contact is)"}}}
_CONTACT = {"type": "object", "required": ["id", "name", "is_primary"], "properties": {
    "id": {"type": "integer"}, **_CONTACT_INPUT["properties"]}}
_CONTACTS_OF_LEAD = {
    "contacts": {"type": "array", "items": {"$ref": "#/components/schemas/Contact"},
                 "description": "primary first; phone, wechat, email and note only when contacts_personal_data"},
    "contacts_personal_data": {"type": "boolean",
                               "description": "whether the caller sees the contacts' personal data"}}
_LEAD = {"type": "object", "properties": {
    **_LEAD_INPUT["properties"], **_CONTACTS_OF_LEAD, "id": {"type": "integer"}, "industry": _STR, "chain_node": _STR,
    "source_name": _STR, "owner_unit_id": {"type": "integer"}, "owner_unit": {"type": "string"},
    "stage": {"enum": [s.value for s in Stage]}, "stage_label": {"type": "string"},
    "signed_on": _STR, "started_on": _STR, "lost_reason": _STR,
    "investment_intensity": {**_NUM, "description": "万元/亩 = fixed-asset investment ÷ land area"},
    "tax_per_mu": {**_NUM, "description": "万元/亩 = expected annual tax ÷ land area"},
    "updated_at": {"type": "string", "format": "date-time"}, "url": {"type": "string"},
    "p_sign": {**_NUM, "description": "chance of signing, 0–1 (null until scored)"},
    "p_land": {**_NUM, "description": "chance of starting construction in the county, 0–1"},
    "score_grade": {"enum": ["A", "B", "C", "D", None]}, "score_source": {"enum": ["model", "prior", None]},
    "model_version": _STR, "scored_at": _STR, "score_pending": {"type": "boolean"}}}
_ERROR = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "status": {"type": "integer"}, "message": {"type": "string"},
    "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}}}


def _resp(desc, schema=None):
    out = {"description": desc}
    if schema:
        out["content"] = {"application/json": {"schema": schema}}
    return out


_ERRORS = {code: _resp(desc, {"$ref": "#/components/schemas/Error"}) for code, desc in {
    "401": "not logged in, or a bad/expired/revoked token", "403": "not allowed for your role or unit",
    "404": "no such lead"}.items()}
_LEAD_REF = {"$ref": "#/components/schemas/Lead"}
_FACTOR = {"type": "object", "properties": {
    "group": {"enum": list(FACTOR_KEYS),
              "description": "what the factor is about (crm.scoring.features.GROUPS; the prior's indicators; "
                             "cap: landing held at the chance of signing; clip: the prior kept within 2%–95%)"},
    "points": {"type": "number", "description": "how far it moves the chance, in percentage points; the county's "
                                                "base chance plus the factors is the lead's chance (exact Shapley "
                                                "values over the groups)"},
    "text": {"type": "string", "description": "in words, with the lead's figures, in the request's language"}}}
_LEAD_DETAIL = {"allOf": [{"$ref": "#/components/schemas/Lead"}, {"type": "object", "properties": {
    "score_factors": {"type": "object", "description": "the latest score's factors, ups then downs: the base "
                                                       "plus the points is the chance",
                      "properties": {"sign": {"type": "array", "items": _FACTOR},
                                     "land": {"type": "array", "items": _FACTOR},
                                     "base": {"type": "object", "description": "the county's base chance (0–1) "
                                              "each target's factors add up from; null for older scores",
                                              "properties": {"sign": {"type": ["number", "null"]},
                                                             "land": {"type": ["number", "null"]}}}}}}}]}
_ID = [{"name": "lead_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_FILTERS = [{"name": n, "in": "query", "schema": s} for n, s in [
    ("q", {"type": "string"}), ("stage", {"enum": [s.value for s in Stage]}),
    ("chain_id", {"type": "integer"}), ("source_kind", {"type": "string"}),
    ("unit_id", {"type": "integer"}), ("owner_id", {"type": "integer"}),
    ("sort", {"enum": ["updated", "created", "investment", "company"]}),
    ("cursor", {"type": "string"}), ("per_page", {"type": "integer", "maximum": 200})]]

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "招商引资 CRM API", "version": "1"},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}, {"session": []}],
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "a personal API token from the profile page"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session",
                        "description": "browser session; changes also need the X-CSRFToken header"}},
        "schemas": {"Lead": _LEAD, "LeadDetail": _LEAD_DETAIL, "LeadInput": _LEAD_INPUT, "Error": _ERROR,
                    "Contact": _CONTACT, "ContactInput": _CONTACT_INPUT},
    },
    "paths": {
        "/leads": {
            "get": {"summary": "Leads the caller may read, filtered, sorted, keyset-paginated",
                    "parameters": _FILTERS,
                    "responses": {"200": _resp("a page", {"type": "object", "properties": {
                        "items": {"type": "array", "items": _LEAD_REF}, "total": {"type": "integer"},
                        "next_cursor": _STR}}), **_ERRORS}},
            "post": {"summary": "Create a lead in the caller's unit",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/LeadInput"}}}},
                     "responses": {"201": _resp("created", _LEAD_REF),
                                   "409": _resp("another unit follows the company (its name is given)"),
                                   "422": _resp("invalid fields"), **_ERRORS}},
        },
        "/leads/{lead_id}": {
            "parameters": _ID,
            "get": {"summary": "One lead, with its score's factors",
                    "responses": {"200": _resp("the lead", {"$ref": "#/components/schemas/LeadDetail"}), **_ERRORS}},
            "patch": {"summary": "Change fields of a lead (send the version you read)",
                      "requestBody": {"required": True, "content": {"application/json": {
                          "schema": {"$ref": "#/components/schemas/LeadInput"}}}},
                      "responses": {"200": _resp("updated", _LEAD_REF),
                                    "409": _resp("changed by someone else since `version`"),
                                    "422": _resp("invalid fields"), **_ERRORS}},
        },
        "/leads/{lead_id}/stage": {
            "parameters": _ID,
            "post": {"summary": "Move a lead along the pipeline",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["stage"], "properties": {
                             "stage": {"enum": [s.value for s in Stage]}, "reason": _STR,
                             "date": {**_STR, "format": "date"}, "version": {"type": "integer"}}}}}},
                     "responses": {"200": _resp("moved", _LEAD_REF),
                                   "409": _resp("changed by someone else"),
                                   "422": _resp("move not allowed, or reason missing"), **_ERRORS}},
        },
    },
}


DOCUMENT["paths"]["/leads/{lead_id}"]["put"] = {
    **DOCUMENT["paths"]["/leads/{lead_id}"]["patch"], "summary": "The same as PATCH (for clients that only PUT)"}

# --- contacts (crm.api.leads) --------------------------------------------------------------------
_CONTACT_ID = _ID + [{"name": "contact_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_CONTACT_BODY = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ContactInput"}}}}
_CONTACT_REF = {"$ref": "#/components/schemas/Contact"}
DOCUMENT["paths"]["/leads"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {
    "allOf": [{"$ref": "#/components/schemas/LeadInput"}, {"type": "object", "properties": {
        "contacts": {"type": "array", "items": {"$ref": "#/components/schemas/ContactInput"},
                     "description": "the lead's first contacts (the first, or the one with is_primary, is primary); "
                                    "a refused one refuses the lead, naming contacts[i].field"}}}]}
DOCUMENT["paths"]["/leads/{lead_id}/contacts"] = {"parameters": _ID, "post": {
    "summary": "Add a contact (officers and team leads of the owning unit)", "requestBody": _CONTACT_BODY,
    "responses": {"201": _resp("added", _CONTACT_REF), "422": _resp("invalid fields (e.g. a phone number)"),
                  **_ERRORS}}}
DOCUMENT["paths"]["/leads/{lead_id}/contacts/{contact_id}"] = {
    "parameters": _CONTACT_ID,
    "patch": {"summary": "Change a contact's fields; is_primary: true makes it the primary contact",
              "requestBody": _CONTACT_BODY,
              "responses": {"200": _resp("changed", _CONTACT_REF), "422": _resp("invalid fields"), **_ERRORS}},
    "delete": {"summary": "Remove a contact (if primary, the oldest remaining one becomes primary)",
               "responses": {"200": _resp("the lead's contacts now", {"type": "object", "properties": _CONTACTS_OF_LEAD}),
                             **_ERRORS}}}
DOCUMENT["paths"]["/leads/{lead_id}/contacts/{contact_id}"]["put"] = {
    **DOCUMENT["paths"]["/leads/{lead_id}/contacts/{contact_id}"]["patch"], "summary": "The same as PATCH"}


@bp.get("/openapi.json")
def openapi():
    """Public: the API description (no data in it)."""
    return jsonify(DOCUMENT)


# --- GET /leads/export (crm.api.exports) ---------------------------------------------------------
_EXPORT_PARAMS = [p for p in _FILTERS if p["name"] not in ("cursor", "per_page")] + [
    {"name": "format", "in": "query", "schema": {"enum": ["xlsx", "csv"], "default": "xlsx"}},
    {"name": "english", "in": "query", "schema": {"enum": ["0", "1"], "default": "0"},
     "description": "1: English column keys and codes instead of the Chinese headers and names"}]
DOCUMENT["paths"]["/leads/export"] = {
    "get": {"summary": "Every lead the caller may read, filtered and sorted as GET /leads, as a file "
                       "(interchange columns, then the derived and scored ones)",
            "parameters": _EXPORT_PARAMS,
            "responses": {
                "200": {"description": "the file, as an attachment (线索导出_YYYYMMDD.xlsx/.csv); "
                                       "CSV is UTF-8 with a BOM",
                        "content": {
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
                                {"schema": {"type": "string", "format": "binary"}},
                            "text/csv": {"schema": {"type": "string"}}}},
                "400": _resp("unknown format or invalid filter", {"$ref": "#/components/schemas/Error"}),
                **{k: v for k, v in _ERRORS.items() if k != "404"}}},
}

_IMPORT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"enum": ["previewed", "queued", "running", "done", "failed", "undone"]},
    "done": {"type": "integer"}, "total": {"type": "integer"}, "created": {"type": "integer"},
    "updated": {"type": "integer"}, "skipped": {"type": "integer"}, "rejected": {"type": "integer"},
    "error": _STR, "job_id": _STR, "report_url": _STR, "history": {"type": "boolean"}}}
DOCUMENT["components"]["schemas"]["Import"] = _IMPORT
DOCUMENT["paths"]["/imports"] = {"post": {
    "summary": "Upload an interchange file (.xlsx/.csv); it is checked, then imported by a background job",
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"}, "mode": {"enum": ["create", "upsert"]},
            "valid_rows_only": {"type": "boolean"},
            "history": {"type": "boolean", "description": "historical ledger import (administrators only)"},
            "create_missing": {"type": "boolean", "description": "team leads and administrators: create the "
                               "industry chains, chain nodes and units the file names and nobody has"}}}}}},
    "responses": {"202": _resp("accepted; follow it at /imports/{id}", {"$ref": "#/components/schemas/Import"}),
                  "400": _resp("the file cannot be read, or a new unit's kind is not told by its name (the reason is given)"),
                  "413": _resp("larger than the upload limit"), **_ERRORS}}}
DOCUMENT["paths"]["/imports/{batch_id}"] = {
    "parameters": [{"name": "batch_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    "get": {"summary": "An import's status, progress and counts",
            "responses": {"200": _resp("the import", {"$ref": "#/components/schemas/Import"}), **_ERRORS}}}

# --- pre-screening (crm.api.screening) -----------------------------------------------------------
_INT = {"type": "integer"}
_CASE = {"type": "object", "properties": {
    "id": _INT, "lead_id": _INT, "company_name": {"type": "string"}, "round": _INT,
    "previous_case_id": {"type": ["integer", "null"]}, "status": {"enum": ["open", "closed", "withdrawn"]},
    "result": {"enum": ["pass", "conditional", "fail", None]}, "submitted_at": {"type": "string"},
    "working_days": {"type": "boolean"}, "period_days": _INT,
    "due_on": {**_STR, "description": "last local day to answer; null while the year's holiday schedule is unknown"},
    "due_at": _STR, "remind_at": _STR, "due_problem_year": {"type": ["integer", "null"]},
    "closed_at": _STR, "closed_by_deadline": {"type": ["boolean", "null"]}, "url": {"type": "string"},
    "units": {"type": "array", "items": {"type": "object"}},
    "indicators": {"type": "array", "items": {"type": "object", "properties": {
        "key": {"type": "string"}, "value": _NUM, "threshold": _NUM,
        "status": {"enum": ["pass", "fail", "unknown"]}}}},
    "opinions": {"type": "array", "items": {"$ref": "#/components/schemas/Opinion"}},
    "notice": {"type": ["array", "null"], "items": {"type": "object", "properties": {
        "item": {"type": "string"}, "units": {"type": "array", "items": {"type": "string"}}}}},
    "supplied_materials": {"type": ["array", "null"], "items": {"type": "string"},
                           "description": "a resubmission: the previous notice's items the officer ticked as supplied"},
    "supplied_report": {"type": "array", "description": "a resubmission: every item the previous notice asked "
                                                        "for, supplied or not (未补齐)",
                        "items": {"type": "object", "properties": {
                            "item": {"type": "string"}, "units": {"type": "array", "items": {"type": "string"}},
                            "supplied": {"type": "boolean"}}}},
    "attachments": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"},
                    "description": "the investor's materials on the case (units[].attachments: each unit's "
                                   "signed opinion)"}}}
_RATINGS = {"type": "object", "description": "each 1–5, or null / left out when the unit did not rate it "
                                            "(未评); anything else is refused",
            "properties": {d: {"type": ["integer", "null"], "minimum": 1, "maximum": 5} for d in
                           ("scale", "intensity", "tech", "prospects", "compliance")}}
_OPINION = {"type": "object", "properties": {
    "id": _INT, "unit_id": _INT, "unit": {"type": "string"}, "version": _INT,
    "verdict": {"enum": ["approve", "conditional", "reject"]}, "ratings": _RATINGS,
    "materials": {"type": "array", "items": {"type": "string"}}, "conditions": _STR, "comment": _STR,
    "submitted_at": {"type": "string"}, "late": {"type": "boolean"}}}
DOCUMENT["components"]["schemas"].update(Case=_CASE, Opinion=_OPINION)
_CASE_ID = [{"name": "case_id", "in": "path", "required": True, "schema": _INT}]
_RULE_ERRORS = {"409": _resp("a rule of the workflow refused it (the message says which)",
                             {"$ref": "#/components/schemas/Error"}), **_ERRORS}
DOCUMENT["paths"]["/screening/cases"] = {"get": {
    "summary": "Pre-screening cases the caller may read (screeners: those asked of their unit)",
    "parameters": [{"name": "status", "in": "query", "schema": {"enum": ["open", "closed", "withdrawn"]}}],
    "responses": {"200": _resp("the cases", {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}}}), **_ERRORS}}}
DOCUMENT["paths"]["/screening/cases/{case_id}"] = {"parameters": _CASE_ID, "get": {
    "summary": "One case: units, indicators against the thresholds, current opinions, the one-time notice",
    "responses": {"200": _resp("the case", {"$ref": "#/components/schemas/Case"}), **_ERRORS}}}
DOCUMENT["paths"]["/leads/{lead_id}/screening"] = {"parameters": _ID, "post": {
    "summary": "Send a lead in negotiation (or returned) to pre-screening; due in three (working) days",
    "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
        "unit_ids": {"type": "array", "items": _INT, "description": "default: the county's and the chain's member units"},
        "park_unit_id": {"type": ["integer", "null"]}, "note": _STR, "version": _INT,
        "supplied_materials": {"type": "array", "items": {"type": "string"},
                               "description": "a returned lead: the items of the last notice now supplied "
                                              "(texts as listed there); the others show as not supplied"}}}}}},
    "responses": {"201": _resp("the case opened", {"$ref": "#/components/schemas/Case"}),
                  "400": _resp("not in negotiation, or bad units"), **_RULE_ERRORS}}}
DOCUMENT["paths"]["/screening/cases/{case_id}/opinions"] = {"parameters": _CASE_ID, "get": {
    "summary": "Every version of every member unit's opinion",
    "responses": {"200": _resp("the opinions", {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Opinion"}}}}), **_ERRORS}},
    "post": {
    "summary": "Give or amend the caller's unit's opinion (screening liaisons of a unit asked)",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object",
        "required": ["verdict", "ratings"], "properties": {
            # The view checks each rating itself (a 400 naming the dimension in words).
            "verdict": {"enum": ["approve", "conditional", "reject"]},
            "ratings": {"type": "object", "description": _RATINGS["description"]},
            "materials": {"type": "array", "items": {"type": "string"}}, "conditions": _STR,
            "comment": {**_STR, "description": "required when rejecting"},
            "based_on_version": {"type": "integer", "description": "the unit's version you read (0: none); "
                                                                   "a newer one gives 409"}}}}}},
    "responses": {"201": _resp("recorded; the case closes when every unit has answered"),
                  "400": _resp("a verdict or rating is missing or invalid"), **_RULE_ERRORS}}}

# --- attachments (crm.api.attachments) -----------------------------------------------------------
_ATTACHMENT = {"type": "object", "properties": {
    "id": _INT, "owner_kind": {"enum": ["screening_case", "screening_opinion", "agenda_item"]}, "owner_id": _INT,
    "name": {"type": "string", "description": "the original file name (display only)"},
    "content_type": {"type": "string", "description": "detected from the content"}, "size": _INT,
    "sha256": {"type": "string"}, "uploaded_by_id": {"type": ["integer", "null"]}, "uploaded_by": _STR,
    "uploaded_at": {"type": "string", "format": "date-time"}, "note": _STR, "download_url": {"type": "string"}}}
DOCUMENT["components"]["schemas"]["Attachment"] = _ATTACHMENT
_KINDS = {"enum": ["screening_case", "screening_opinion", "agenda_item"],
          "description": "screening_case: owner_id is a case id; screening_opinion: a unit's answer on a "
                         "case (units[].case_unit_id of the case); agenda_item: an agenda item id"}
_OWNER = [{"name": "kind", "in": "query", "required": True, "schema": _KINDS},
          {"name": "owner_id", "in": "query", "required": True, "schema": _INT}]
_NOT_READABLE = {"404": _resp("no such record, or not one the caller may read",
                              {"$ref": "#/components/schemas/Error"})}
DOCUMENT["paths"]["/attachments"] = {"get": {
    "summary": "A record's files (whoever may read the record)", "parameters": _OWNER,
    "responses": {"200": _resp("the files", {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}},
        "can_upload": {"type": "boolean"}}}), **_ERRORS, **_NOT_READABLE}},
    "post": {
    "summary": "Add a file: PDF, images, Word/Excel/PowerPoint, WPS, or a zip of those, checked by content; "
               "20 MB each by default (ATTACHMENT_MAX_MB)",
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["kind", "owner_id", "file"], "properties": {
            "kind": _KINDS, "owner_id": _INT,
            "file": {"type": "string", "format": "binary"}, "note": {"type": "string", "maxLength": 500}}}}}},
    "responses": {"201": _resp("stored", {"$ref": "#/components/schemas/Attachment"}),
                  "400": _resp("not an allowed type, or the content does not fit the name's ending (nothing stored)",
                               {"$ref": "#/components/schemas/Error"}),
                  "403": _resp("the caller may read but not add files here (or the record is closed)",
                               {"$ref": "#/components/schemas/Error"}),
                  "413": _resp("larger than the limit (nothing stored)", {"$ref": "#/components/schemas/Error"}),
                  **{k: v for k, v in _ERRORS.items() if k != "403"}, **_NOT_READABLE}}}
DOCUMENT["paths"]["/attachments/{attachment_id}/download"] = {
    "parameters": [{"name": "attachment_id", "in": "path", "required": True, "schema": _INT}],
    "get": {"summary": "The file, as an attachment under its original name (every download is audited)",
            "responses": {"200": {"description": "the file", "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                **_ERRORS, **_NOT_READABLE}}}

# --- collective decision (crm.api.decisions) -----------------------------------------------------
_CHOICES = ["approve", "reject", "abstain", "recuse", "not_voted"]
_VOTE = {"type": "object", "properties": {"user_id": _INT, "name": {"type": "string"},
                                          "choice": {"enum": _CHOICES}, "reason": _STR, "version": _INT}}
_COUNTS = ("members", "present", "recused", "approve", "reject", "abstain", "not_voted")
_ITEM = {"type": "object", "properties": {
    "id": _INT, "meeting_id": _INT, "lead_id": _INT, "company_name": {"type": "string"},
    "screening_case_id": {"type": ["integer", "null"]}, "status": {"enum": ["open", "closed", "deferred"]},
    "result": {"enum": ["passed", "failed", None]}, "version": _INT,
    **{k: {"type": ["integer", "null"], "description": "recorded when the item closes"} for k in _COUNTS},
    "conditions": _STR, "closed_at": _STR,
    "progress": {"type": "object", "description": "how many members present have voted (once the meeting opens)",
                 "properties": {"voted": _INT, "present": _INT}},
    "votes": {"type": "array", "description": "sealed: until the item closes, only the caller's own vote",
              "items": _VOTE},
    "member_lines": {"type": "array", "description": "once closed: every member with 同意/不同意/弃权/回避/未表决/缺席",
                     "items": {"type": "object", "properties": {
                         "name": {"type": "string"}, "title": {"type": "string"},
                         "status": {"enum": _CHOICES + ["absent"]}, "label": {"type": "string"},
                         "detail": {"type": "string"}}}}}}
_ATTENDEE = {"type": "object", "properties": {
    "user_id": _INT, "name": {"type": "string"}, "title": {"type": "string"}, "present": {"type": "boolean"},
    "absence_reason": {"enum": ["business_trip", "leave", "other", None]}, "absence_note": _STR}}
_MEETING = {"type": "object", "properties": {
    "id": _INT, "title": {"type": "string"}, "meeting_on": {"type": "string", "format": "date"},
    "start_time": {**_STR, "description": "HH:MM, local time"}, "location": _STR,
    "recorder": {**_STR, "description": "记录人"}, "observers": {**_STR, "description": "列席"},
    "status": {"enum": ["scheduled", "open", "closed"]}, "chair_id": {"type": ["integer", "null"]},
    "member_count": {"type": ["integer", "null"]},
    "quorum_fraction": {**_NUM, "description": "frozen when the meeting opens"}, "pass_fraction": _NUM,
    "pass_basis": {"enum": ["members", "present", "cast", None],
                   "description": "approvals must be more than pass_fraction of: the members entitled to vote "
                                  "(members minus recused), those present and entitled, or the votes cast"},
    "abstain_counts_as_cast": {"type": ["boolean", "null"]}, "chair_votes_last": {"type": ["boolean", "null"]},
    "url": {"type": "string"},
    "attendees": {"type": "array", "items": _ATTENDEE},
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/AgendaItem"}}}}
DOCUMENT["components"]["schemas"].update(Meeting=_MEETING, AgendaItem=_ITEM)
_MEETING_ID = [{"name": "meeting_id", "in": "path", "required": True, "schema": _INT}]
_ITEM_ID = [{"name": "item_id", "in": "path", "required": True, "schema": _INT}]
_M_REF = {"$ref": "#/components/schemas/Meeting"}
_ATTENDANCE_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["attendance"], "properties": {"attendance": {
        "type": "array", "description": "every member of the group, present or absent with the reason",
        "items": {"type": "object", "required": ["user_id", "present"], "properties": {
            "user_id": _INT, "present": {"type": "boolean"},
            "absence_reason": {"enum": ["business_trip", "leave", "other"]}, "absence_note": _STR}}}}}}}}
DOCUMENT["paths"]["/meetings"] = {
    "get": {"summary": "Leadership-group meetings, newest first",
            "responses": {"200": _resp("the meetings", {"type": "object", "properties": {
                "items": {"type": "array", "items": _M_REF}}}), **_ERRORS}},
    "post": {"summary": "Schedule a meeting (team leads, admins); the members are notified",
             "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object",
                 "required": ["title", "meeting_on"], "properties": {"title": {"type": "string"},
                 "meeting_on": {"type": "string", "format": "date"}, "start_time": {**_STR, "description": "HH:MM"},
                 "location": _STR, "recorder": _STR, "observers": _STR}}}}},
             "responses": {"201": _resp("scheduled", _M_REF), "422": _resp("title, date or time missing or invalid"),
                           **_ERRORS}}}
DOCUMENT["paths"]["/meetings/{meeting_id}"] = {"parameters": _MEETING_ID, "get": {
    "summary": "A meeting with attendees and agenda items", "responses": {"200": _resp("the meeting", _M_REF), **_ERRORS}}}
DOCUMENT["paths"]["/meetings/{meeting_id}/items"] = {"parameters": _MEETING_ID, "post": {
    "summary": "Put a project awaiting decision on the agenda",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["lead_id"], "properties": {"lead_id": _INT}}}}},
    "responses": {"201": _resp("added", {"$ref": "#/components/schemas/AgendaItem"}),
                  "400": _resp("the lead is not awaiting decision"), **_RULE_ERRORS}}}
DOCUMENT["paths"]["/meetings/{meeting_id}/open"] = {"parameters": _MEETING_ID, "post": {
    "summary": "Take attendance and open the meeting: the chair, members and rules freeze",
    "requestBody": _ATTENDANCE_BODY,
    "responses": {"200": _resp("opened", _M_REF), "422": _resp("attendance missing or malformed"),
                  "400": _resp("a member unrecorded, or an absence without its reason"), **_RULE_ERRORS}}}
DOCUMENT["paths"]["/meetings/{meeting_id}/attendance"] = {"parameters": _MEETING_ID, "post": {
    "summary": "Correct the attendance of a meeting in session, before the first vote (409 after it)",
    "requestBody": _ATTENDANCE_BODY,
    "responses": {"200": _resp("corrected", _M_REF), **_RULE_ERRORS}}}
DOCUMENT["paths"]["/items/{item_id}/votes"] = {"parameters": _ITEM_ID, "post": {
    "summary": "Vote, change the vote, or recuse (members present; one vote per member and item; the chair last)",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["choice"], "properties": {
            "choice": {"enum": ["approve", "reject", "abstain", "recuse"]},
            "reason": {**_STR, "description": "required to recuse: the conflict of interest"},
            "based_on_version": {"type": "integer", "description": "your vote's version you read (0: none)"}}}}}},
    "responses": {"201": _resp("recorded", _VOTE), "400": _resp("unknown choice, or a recusal without reason"),
                  **_RULE_ERRORS}}}
DOCUMENT["paths"]["/items/{item_id}/not-voted"] = {"parameters": _ITEM_ID, "post": {
    "summary": "The chair records a present member who has not voted as 未表决",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["user_id"], "properties": {"user_id": _INT}}}}},
    "responses": {"201": _resp("recorded", {"$ref": "#/components/schemas/AgendaItem"}),
                  "422": _resp("user_id missing"), **_RULE_ERRORS}}}
DOCUMENT["paths"]["/items/{item_id}/close-preview"] = {"parameters": _ITEM_ID, "get": {
    "summary": "The chair: the exact count and the outcome closing would record, and the version to confirm",
    "responses": {"200": _resp("the count", {"type": "object", "properties": {
        "count": {"type": "object", "properties": {k: _INT for k in _COUNTS + ("absent", "entitled")}},
        "passed": {"type": "boolean"}, "base": _INT, "needed": _INT, "confirmed_version": _INT}}),
        **_RULE_ERRORS}}}
DOCUMENT["paths"]["/items/{item_id}/close"] = {"parameters": _ITEM_ID, "post": {
    "summary": "Close the item (the chair), confirming the count of close-preview: passed → admitted, failed → "
               "rejected; refused without quorum, with a present member not voted, or with no vote cast",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object",
        "properties": {
            "conditions": _STR, "confirmed_version": {"type": "integer",
                                                      "description": "from close-preview; missing or "
                                                                     "stale: 409"}}}}}},
    "responses": {"200": _resp("closed", {"$ref": "#/components/schemas/AgendaItem"}), **_RULE_ERRORS}}}

_PROPOSAL = {"type": "object", "properties": {
    "id": _INT, "lead_id": _INT, "company_name": {"type": "string"}, "unit_id": _INT,
    "status": {"enum": ["pending", "accepted", "withdrawn"]}, "note": _STR,
    "meeting_id": {"type": ["integer", "null"]}, "created_at": _STR}}
DOCUMENT["paths"]["/proposals"] = {
    "get": {"summary": "Proposals for the agenda: the secretariat sees those waiting, a unit its own",
            "responses": {"200": _resp("the proposals", {"type": "object", "properties": {
                "items": {"type": "array", "items": _PROPOSAL}}}), **_ERRORS}},
    "post": {"summary": "Propose the own unit's project awaiting the decision for a meeting's agenda",
             "requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["lead_id"], "properties": {"lead_id": _INT, "note": _STR}}}}},
             "responses": {"201": _resp("proposed", _PROPOSAL), "404": _resp("no such lead of the caller's unit"),
                           **_RULE_ERRORS}}}

# --- scoring (crm.api.scoring) ------------------------------------------------------------------
DOCUMENT["paths"]["/scoring/models"] = {"get": {
    "summary": "Every trained version per target (sign, land): status, metrics on the time-ordered holdout, "
               "calibration table, importances, library versions",
    "responses": {"200": _resp("the versions", {"type": "object", "properties": {
        "items": {"type": "array", "items": {"type": "object"}}}}), **_ERRORS}}}
DOCUMENT["paths"]["/scoring/train"] = {"post": {
    "summary": "Train both targets now (slow queue); a better version becomes active and all leads are rescored",
    "responses": {"202": _resp("queued", {"type": "object", "properties": {
        "job_id": {"type": "string"}, "progress_url": {"type": "string"}}}), **_ERRORS}}}

# --- industry chains and the 招商作战表 (crm.api.chains) ------------------------------------------
_NODE = {"type": "object", "properties": {
    "id": _INT, "name": {"type": "string"}, "tier": {"enum": ["upstream", "midstream", "downstream"]},
    "tier_label": {"type": "string"}, "position": _INT,
    "intent": {"enum": ["fill", "extend", "strengthen", None]}, "intent_label": _STR,
    "coverage": {"enum": ["covered", "in_progress", "gap"],
                 "description": "covered: local firms or a landed project; in_progress: open leads only; gap: neither"},
    "firms": _INT, "firms_output_wan": {"type": "number"}, "live_leads": _INT, "signed": _INT, "landed": _INT,
    "targets": {"type": "object", "additionalProperties": _INT, "description": "target companies by status"},
    "targets_total": _INT}}
_CHAIN = {"type": "object", "properties": {
    "id": _INT, "code": {"type": "string"}, "name": {"type": "string"}, "position": _INT, "description": _STR,
    "gap_figures": {"type": "object", "properties": {
        "nodes": _INT, "covered": _INT, "in_progress": _INT, "gaps": _INT,
        "gap_nodes": {"type": "array", "items": {"type": "string"},
                      "description": "nodes without local firms, landed projects or live leads"},
        "in_progress_nodes": {"type": "array", "items": {"type": "string"}}}},
    "nodes": {"type": "array", "items": {"$ref": "#/components/schemas/ChainNode"}}}}
DOCUMENT["components"]["schemas"].update(Chain=_CHAIN, ChainNode=_NODE)
_NO_404 = {k: v for k, v in _ERRORS.items() if k != "404"}
DOCUMENT["paths"]["/chains"] = {"get": {
    "summary": "Every industry chain in map order, with its nodes, their figures and the gap figures",
    "responses": {"200": _resp("the chains", {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Chain"}}}}), **_NO_404}}}
_REPEATABLE = {"style": "form", "explode": True}
DOCUMENT["paths"]["/chains/{chain_id}/targets/export"] = {
    "parameters": [{"name": "chain_id", "in": "path", "required": True, "schema": _INT}],
    "get": {"summary": "The chain's 招商作战表 (every unit's target companies) as a file: a summary sheet "
                       "(gap nodes, counts per node and unit by status), then the chain's sheet",
            "parameters": [
                {"name": "format", "in": "query", "schema": {"enum": ["xlsx", "csv"], "default": "xlsx"}},
                {"name": "priority", "in": "query", **_REPEATABLE, "description": "code or 高/中/低; repeatable",
                 "schema": {"type": "array", "items": {"type": "string"}}},
                {"name": "unit", "in": "query", **_REPEATABLE, "description": "unit id or name; repeatable",
                 "schema": {"type": "array", "items": {"type": "string"}}},
                {"name": "status", "in": "query", **_REPEATABLE,
                 "description": "not_contacted, contacted, converted, dropped (or 未接触 …); repeatable",
                 "schema": {"type": "array", "items": {"type": "string"}}}],
            "responses": {
                "200": {"description": "the file, as an attachment (招商作战表_<chain>_YYYYMMDD.xlsx/.csv); "
                                       "CSV is UTF-8 with a BOM",
                        "content": {
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
                                {"schema": {"type": "string", "format": "binary"}},
                            "text/csv": {"schema": {"type": "string"}}}},
                "400": _resp("unknown format, or a filter naming no priority, unit or status",
                             {"$ref": "#/components/schemas/Error"}),
                **_NO_404, "404": _resp("no such chain", {"$ref": "#/components/schemas/Error"})}}}
