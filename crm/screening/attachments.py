"""Pre-screening's attachment kinds: the investor's materials on a case (added by the officers
and team leads of the lead's unit) and a member unit's signed opinion on its answer to a case
(added by that unit's screening liaisons). Both are read by whoever may read the case, and
files are added or removed only while the case is open. Registered by create_app through
crm.attachments.kinds."""
from __future__ import annotations

from flask_babel import gettext as _

from crm.attachments.registry import AttachmentKind
from crm.auth.roles import Permission
from crm.extensions import db
from crm.screening.models import CaseUnit, ScreeningCase
from crm.screening.queries import can_read_case, can_submit_lead
from crm.screening.services import case_path

CASE_KIND = "screening_case"
OPINION_KIND = "screening_opinion"   # owner: the unit's answer on the case (screening_case_units.id)


def _case_label(case: ScreeningCase) -> str:
    return _("Pre-screening of %(company)s, round %(n)s", company=case.lead.company_name, n=case.round)


CASE = AttachmentKind(
    name=CASE_KIND,
    load=lambda owner_id: db.session.get(ScreeningCase, owner_id),
    may_read=lambda user, case: can_read_case(user, case),
    may_upload=lambda user, case: case.is_open and can_submit_lead(user, case.lead),
    is_open=lambda case: case.is_open,
    label=_case_label,
    link=lambda case: case_path(case.id),
)

OPINION = AttachmentKind(
    name=OPINION_KIND,
    load=lambda owner_id: db.session.get(CaseUnit, owner_id),
    may_read=lambda user, cu: can_read_case(user, cu.case),
    may_upload=lambda user, cu: (cu.case.is_open and user.can(Permission.SCREENING_ANSWER)
                                 and user.unit_id == cu.unit_id),
    is_open=lambda cu: cu.case.is_open,
    label=lambda cu: _("Opinion of %(unit)s on %(case)s", unit=cu.unit.name, case=_case_label(cu.case)),
    link=lambda cu: f"{case_path(cu.case_id)}#unit-{cu.id}",
)

KINDS = (CASE, OPINION)
