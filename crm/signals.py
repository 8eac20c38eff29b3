"""Signals features send when something happened that other features may follow up on.

A core module: it imports no feature. Senders pass the subject's id as a keyword; receivers are
connected in create_app (e.g. crm.papers gives the closed case's notice its document number).
Receivers run inside the sender's transaction: they change state and flush, never commit.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sent by crm.screening.services.close_case:  screening_case_closed.send(case_id=case.id)
screening_case_closed = _signals.signal("screening-case-closed")
# sent by crm.decisions.services.close_meeting:  meeting_closed.send(meeting_id=meeting.id)
meeting_closed = _signals.signal("meeting-closed")
# sent by crm.leads.services.change_stage after every stage move:
#   lead_stage_changed.send(lead=lead, old_stage=…, on_date=…, actor=…)
# (pre-screening withdraws an open case when its lead is terminated; tracking records the
# milestone a hand move reaches, so the stage and the milestones never disagree)
lead_stage_changed = _signals.signal("lead-stage-changed")
# sent by the tracking features when a tracked project's facts change (agreement, plans, actual
# dates, 到资, steps, problems):  project_changed.send(lead_id=…). The light is recomputed.
project_changed = _signals.signal("project-changed")
# sent by writers that change many leads' stages or milestones at once, bypassing change_stage
# (the interchange importer's bulk insert, the demo):  leads_bulk_changed.send(lead_ids=[…]).
# The dashboard's stage_reached projection rebuilds them before the commit.
leads_bulk_changed = _signals.signal("leads-bulk-changed")
# sent by writers that insert new leads in bulk, each with its whole stage history and no
# milestone actual yet (the interchange importer), instead of leads_bulk_changed:
#   leads_bulk_created.send(leads=[(lead_id, signed_on, started_on, [(to_stage, changed_at), …]), …])
# The dashboard computes their stage_reached rows from what is sent, without reading them back.
leads_bulk_created = _signals.signal("leads-bulk-created")
