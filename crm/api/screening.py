"""Pre-screening endpoints: cases, submitting a lead, and member units' opinions."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from crm.api import bp
from crm.api.attachments import attachment_json
from crm.api.errors import ApiError
from crm.attachments.queries import panels as attachment_panels
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.leads import services as lead_services
from crm.leads.queries import get_lead_or_404
from crm.screening import indicators, queries, services
from crm.screening.attachments import CASE_KIND, OPINION_KIND
from crm.screening.models import RATING_DIMENSIONS, CaseStatus, ScreeningCase, ScreeningOpinion


def _iso(value):
    return value.isoformat() if value else None


def opinion_json(o: ScreeningOpinion) -> dict:
    return {"id": o.id, "unit_id": o.unit_id, "unit": o.unit.name, "version": o.version, "verdict": o.verdict,
            "ratings": {d: getattr(o, f"rating_{d}") for d in RATING_DIMENSIONS}, "materials": o.materials,
            "conditions": o.conditions, "comment": o.comment, "author_id": o.author_id,
            "submitted_at": _iso(o.submitted_at), "late": o.late}


def case_json(case: ScreeningCase, full: bool = False) -> dict:
    out = {"id": case.id, "lead_id": case.lead_id, "company_name": case.lead.company_name, "round": case.round,
           "previous_case_id": case.previous_case_id, "status": case.status, "result": case.result,
           "submitted_at": _iso(case.submitted_at), "submitted_by_id": case.submitted_by_id,
           "working_days": case.working_days, "period_days": case.period_days,
           "due_on": _iso(case.due_on), "due_at": _iso(case.due_at), "remind_at": _iso(case.remind_at),
           "due_problem_year": case.due_problem_year, "closed_at": _iso(case.closed_at),
           "closed_by_deadline": case.closed_by_deadline, "park_unit_id": case.park_unit_id,
           "url": services.case_path(case.id),
           "supplied_materials": case.supplied_materials,
           "units": [{"case_unit_id": cu.id, "unit_id": cu.unit_id, "unit": cu.unit.name, "answered_at": _iso(cu.answered_at),
                      "late": cu.late, "missing": cu.missing, "reminded_at": _iso(cu.reminded_at)}
                     for cu in case.units]}
    if full:
        thresholds = services.thresholds_for(case.lead.chain_id, case.park_unit_id)
        out["indicators"] = [{"key": i.key, "value": None if i.value is None else float(i.value),
                              "threshold": None if i.threshold is None else float(i.threshold),
                              "status": i.status} for i in indicators.compute(case.lead, thresholds)]
        out["opinions"] = [opinion_json(o) for o in case.latest_opinions().values()]
        out["notice"] = case.notice_items
        out["supplied_report"] = case.supplied_report()
        user = acting_user()
        case_files = attachment_panels(CASE_KIND, {case.id: case}, user).get(case.id)
        unit_files = attachment_panels(OPINION_KIND, {cu.id: cu for cu in case.units}, user)
        out["attachments"] = [attachment_json(a) for a in case_files.files] if case_files else []
        for unit in out["units"]:
            panel = unit_files.get(unit["case_unit_id"])
            unit["attachments"] = [attachment_json(a) for a in panel.files] if panel else []
    return out


@bp.route("/screening/cases")
@require_permission(Permission.SCREENING_SUBMIT, Permission.SCREENING_READ_ALL, Permission.SCREENING_ANSWER)
def api_screening_cases():
    """Cases the caller may read: their unit's (officers), asked of their unit (screeners), or all."""
    user = acting_user()
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in CaseStatus}:
        raise ApiError(400, _("Unknown status."))
    if user.can(Permission.SCREENING_SUBMIT, Permission.SCREENING_READ_ALL):
        rows = queries.case_list(user, status)
    else:
        rows = [case for case, _cu in queries.todo_for_unit(user.unit_id)] + queries.answered_open_for_unit(user.unit_id)
    return jsonify({"items": [case_json(c) for c in rows]})


@bp.route("/screening/cases/<int:case_id>")
@require_permission()
def api_screening_case(case_id: int):
    """One case with indicators, each unit's current opinion and the notice."""
    return jsonify(case_json(queries.get_case_or_404(case_id), full=True))


@bp.route("/leads/<int:lead_id>/screening", methods=["POST"])
@require_permission(Permission.SCREENING_SUBMIT)
def api_submit_screening(lead_id: int):
    """Officers and team leads of the lead's unit: send it to pre-screening."""
    lead = get_lead_or_404(lead_id, write=True)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, _("Send a JSON object."))
    unit_ids = payload.get("unit_ids")
    if unit_ids is None:
        unit_ids = [u.id for u in services.member_units_for(lead)]
    if not isinstance(unit_ids, list) or not all(isinstance(u, int) for u in unit_ids):
        raise ApiError(422, _("unit_ids must be a list of unit ids."), fields={"unit_ids": ["list of integers"]})
    try:
        case = services.submit(lead, acting_user(), unit_ids, payload.get("park_unit_id"), payload.get("note"),
                               expected_version=payload.get("version"), supplied=payload.get("supplied_materials"))
    except (lead_services.ConcurrentEditError, StaleDataError):
        raise ApiError(409, _("This lead was changed by someone else since you opened it. Reload and try again."))
    except services.ScreeningError as exc:
        raise ApiError(exc.status, str(exc), **({"fields": {exc.field: [str(exc)]}} if exc.field else {}))
    return jsonify(case_json(case, full=True)), 201


@bp.route("/screening/cases/<int:case_id>/opinions")
@require_permission()
def api_screening_opinions(case_id: int):
    """Every version of every unit's opinion on a case."""
    case = queries.get_case_or_404(case_id)
    return jsonify({"items": [opinion_json(o) for o in case.opinions]})


@bp.route("/screening/cases/<int:case_id>/opinions", methods=["POST"])
@require_permission(Permission.SCREENING_ANSWER)
def api_submit_opinion(case_id: int):
    """Screening liaisons of a unit asked: give or amend the unit's opinion."""
    case = queries.get_case_or_404(case_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, _("Send a JSON object."))
    ratings = payload.get("ratings") or {}  # a dimension left out or null: not rated (未评)
    if not isinstance(ratings, dict) or not isinstance(payload.get("materials", []), list):
        raise ApiError(422, _("ratings must be an object and materials a list."))
    data = {"verdict": payload.get("verdict"), "materials": payload.get("materials", []),
            "conditions": payload.get("conditions"), "comment": payload.get("comment"),
            **{f"rating_{d}": ratings.get(d) for d in RATING_DIMENSIONS}}
    user = acting_user()
    based_on = payload.get("based_on_version")
    try:
        opinion = services.submit_opinion(case, user.unit_id, user, data,
                                          based_on if isinstance(based_on, int) else None)
    except services.ScreeningError as exc:
        raise ApiError(exc.status, str(exc), **({"fields": {exc.field: [str(exc)]}} if exc.field else {}))
    db.session.flush()
    return jsonify({"opinion": opinion_json(opinion), "case": case_json(case)}), 201
