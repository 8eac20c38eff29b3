"""The home page: what needs doing next for the user's role."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from crm import clock
from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.leads.models import Lead, LeadActivity
from crm.leads.pipeline import MAIN_LINE, STAGE_LABELS, Stage
from crm.leads.queries import visible_leads_filter

bp = Blueprint("main", __name__)


@bp.route("/")
@require_permission()
def home():
    """Any logged-in user: pipeline counts and due follow-ups within what they may read."""
    visible = visible_leads_filter(current_user)
    conds = [visible] if visible is not None else []
    counts = dict(db.session.execute(select(Lead.stage, func.count()).where(*conds)
                                     .group_by(Lead.stage)).all())
    due = []
    if current_user.can(Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL):
        horizon = clock.today() + timedelta(days=7)
        latest = select(func.max(LeadActivity.id)).group_by(LeadActivity.lead_id)
        stmt = (select(LeadActivity).join(LeadActivity.lead)
                .where(*conds, LeadActivity.id.in_(latest), LeadActivity.next_follow_up_on.is_not(None),
                       LeadActivity.next_follow_up_on <= horizon,
                       Lead.stage.not_in([Stage.LOST.value, Stage.REJECTED.value]))
                .options(joinedload(LeadActivity.lead))
                .order_by(LeadActivity.next_follow_up_on).limit(20))
        if not current_user.can(Permission.LEADS_READ_ALL):
            stmt = stmt.where(Lead.owner_id == current_user.id)
        due = db.session.scalars(stmt).all()
    stages = MAIN_LINE + [Stage.RETURNED, Stage.REJECTED, Stage.LOST]
    screening_todo = []
    if current_user.can(Permission.SCREENING_ANSWER):
        from crm.screening.queries import todo_for_unit

        screening_todo = todo_for_unit(current_user.unit_id)
    pending_votes = []
    if current_user.can(Permission.DECISIONS_VOTE):
        from crm.decisions.voting import pending_votes_for

        pending_votes = pending_votes_for(current_user)
    calendar_gaps = []
    if current_user.can(Permission.SCREENING_SETTINGS):
        from crm.screening.services import calendar_gaps as gaps

        calendar_gaps = gaps()
    unit_targets = None
    if current_user.can(Permission.TARGETS_EDIT_UNIT):
        from crm.chains.queries import unit_targets as targets_of

        unit_targets = targets_of(current_user.unit_id)

    return render_template("main/home.html", counts=counts, stages=stages,
                           stage_labels=STAGE_LABELS, due=due, today=clock.today(),
                           screening_todo=screening_todo, calendar_gaps=calendar_gaps,
                           pending_votes=pending_votes, unit_targets=unit_targets, now=clock.now())
