"""Roles (DOMAIN.md) as bundles of capabilities; views check capabilities, never role names."""
from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Role(StrEnum):
    OFFICER = "officer"
    TEAM_LEAD = "team_lead"
    SCREENER = "screener"
    LEADER = "leader"
    ADMIN = "admin"
    VIEWER = "viewer"


ROLE_LABELS = {
    Role.OFFICER: _l("Investment officer"),
    Role.TEAM_LEAD: _l("Team lead"),
    Role.SCREENER: _l("Screening liaison"),
    Role.LEADER: _l("Leadership group member"),
    Role.ADMIN: _l("Administrator"),
    Role.VIEWER: _l("Viewer"),
}


class Permission(StrEnum):
    LEADS_READ_UNIT = "leads.read_unit"      # the leads owned by one's own unit
    LEADS_READ_ALL = "leads.read_all"        # every unit's leads
    LEADS_EDIT_UNIT = "leads.edit_unit"      # create/edit/move the own unit's leads
    LEADS_ASSIGN = "leads.assign"            # hand a lead to another officer of the unit
    LEADS_IMPORT = "leads.import"            # upload interchange files (own unit; admins: any)
    SOURCES_EDIT = "sources.edit"
    MANAGE_ACCOUNTS = "admin.accounts"       # users and units
    AUDIT_READ = "admin.audit"
    API_TOKENS = "api.tokens"
    SCREENING_SUBMIT = "screening.submit"      # send the own unit's leads to pre-screening
    SCREENING_ANSWER = "screening.answer"      # give the own member unit's opinion on a case
    SCREENING_READ_ALL = "screening.read_all"  # every case, and the timeliness figures
    SCREENING_SETTINGS = "screening.settings"  # member units, thresholds, the holiday table
    DECISIONS_READ = "decisions.read"          # meetings, agendas, results and minutes
    DECISIONS_MANAGE = "decisions.manage"      # keep the agenda: only admins and the secretariat unit's team leads
    DECISIONS_PROPOSE = "decisions.propose"    # ask the secretariat to put the own unit's project on an agenda
    DECISIONS_VOTE = "decisions.vote"          # vote as a member of the leadership group
    DECISIONS_SETTINGS = "decisions.settings"  # the group's members, chair and counting rules
    SCORING_READ = "scoring.read"              # the model page: versions, metrics, calibration
    SCORING_MANAGE = "scoring.manage"          # train now, grade cut-offs
    CHAINS_READ = "chains.read"                # chain maps, gap figures, targets, the 作战表 export
    CHAINS_EDIT = "chains.edit"                # chains, nodes, their intent and local firms
    TARGETS_EDIT_UNIT = "targets.edit_unit"    # add, edit, import and convert the own unit's targets
    TARGETS_EDIT_ALL = "targets.edit_all"      # the same for every unit's targets
    PAPERS_SETTINGS = "papers.settings"        # issuers and document-number prefixes of official papers
    TRACKING_SETTINGS = "tracking.settings"    # the 23-step catalogue, light and letter thresholds
    TRACKING_IMPORT = "tracking.import"        # the tax bureau's yearly output/tax sheet
    TRACKING_RESPOND = "tracking.respond"      # 签收/反馈 letters and work on problems addressed to the own unit
    DASHBOARD_READ_ALL = "dashboard.read_all"  # the cockpit, the ranking and the bulletins for the whole county
    DASHBOARD_READ_UNIT = "dashboard.read_unit"  # the cockpit for the own unit, and the county's ranking
    BULLETINS_MAKE = "bulletins.make"          # make a 督查通报 on demand for any period
    CONTACTS_READ_ALL = "contacts.read_all"    # the personal data (phone, WeChat, e-mail) of every unit's contacts
    PROBLEMS_RAISE = "problems.raise"          # put a problem on a project one reads (问题清单); never the 督查 viewer
    OPS_READ = "ops.read"                      # background jobs: queues, workers, failed jobs, periodic runs
    OPS_MANAGE = "ops.manage"                  # run a failed job again, or discard it


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: frozenset({Permission.LEADS_READ_UNIT, Permission.LEADS_EDIT_UNIT,
                             Permission.LEADS_IMPORT, Permission.SOURCES_EDIT, Permission.API_TOKENS,
                             Permission.SCREENING_SUBMIT, Permission.CHAINS_READ, Permission.TARGETS_EDIT_UNIT,
                             Permission.DECISIONS_READ, Permission.DECISIONS_PROPOSE, Permission.TRACKING_RESPOND,
                             Permission.PROBLEMS_RAISE}),
    Role.TEAM_LEAD: frozenset({Permission.LEADS_READ_UNIT, Permission.LEADS_EDIT_UNIT,
                               Permission.LEADS_ASSIGN, Permission.LEADS_IMPORT, Permission.SOURCES_EDIT,
                               Permission.API_TOKENS, Permission.SCREENING_SUBMIT, Permission.DECISIONS_READ,
                               Permission.DECISIONS_MANAGE, Permission.DECISIONS_PROPOSE, Permission.CHAINS_READ, Permission.CHAINS_EDIT,
                               Permission.TARGETS_EDIT_UNIT, Permission.TRACKING_RESPOND,
                               Permission.DASHBOARD_READ_UNIT, Permission.PROBLEMS_RAISE}),
    # Screeners read a lead only through the cases sent to their unit.
    # A department's liaison also answers the letters and solves the problems addressed to it.
    Role.SCREENER: frozenset({Permission.API_TOKENS, Permission.SCREENING_ANSWER, Permission.TRACKING_RESPOND}),
    Role.LEADER: frozenset({Permission.LEADS_READ_ALL, Permission.CONTACTS_READ_ALL, Permission.API_TOKENS,
                            Permission.SCREENING_READ_ALL,
                            Permission.DECISIONS_READ, Permission.DECISIONS_VOTE, Permission.SCORING_READ,
                            Permission.CHAINS_READ, Permission.DASHBOARD_READ_ALL, Permission.PROBLEMS_RAISE}),
    Role.VIEWER: frozenset({Permission.LEADS_READ_ALL, Permission.SCREENING_READ_ALL, Permission.DECISIONS_READ,
                            Permission.CHAINS_READ, Permission.DASHBOARD_READ_ALL}),
    Role.ADMIN: frozenset({Permission.LEADS_READ_ALL, Permission.CONTACTS_READ_ALL, Permission.LEADS_IMPORT,
                           Permission.MANAGE_ACCOUNTS,
                           Permission.AUDIT_READ, Permission.SOURCES_EDIT, Permission.API_TOKENS,
                           Permission.SCREENING_READ_ALL, Permission.SCREENING_SETTINGS,
                           Permission.DECISIONS_READ, Permission.DECISIONS_MANAGE, Permission.DECISIONS_SETTINGS,
                           Permission.SCORING_READ, Permission.SCORING_MANAGE, Permission.CHAINS_READ,
                           Permission.CHAINS_EDIT, Permission.TARGETS_EDIT_ALL, Permission.PAPERS_SETTINGS,
                           Permission.TRACKING_SETTINGS, Permission.TRACKING_IMPORT,
                           Permission.DASHBOARD_READ_ALL, Permission.BULLETINS_MAKE, Permission.PROBLEMS_RAISE,
                           Permission.OPS_READ, Permission.OPS_MANAGE}),
}


def permissions_for(roles) -> frozenset[Permission]:
    result: set[Permission] = set()
    for role in roles:
        result |= ROLE_PERMISSIONS.get(Role(role), frozenset())
    return frozenset(result)
