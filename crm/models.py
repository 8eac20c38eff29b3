"""Imports every model so the metadata (Alembic autogenerate) sees all tables."""
from crm.audit.models import AuditEntry  # noqa: F401
from crm.auth.models import ApiToken, Unit, User, UserRole  # noqa: F401
from crm.chains.models import Chain, ChainNode, LocalEnterprise, Target  # noqa: F401
from crm.leads.models import Lead, LeadActivity, LeadStageChange, Source, StageReached  # noqa: F401
from crm.interchange.models import ImportBatch, ImportedLead  # noqa: F401
from crm.notifications.models import Notification  # noqa: F401
from crm.screening.models import (CalendarDay, CalendarYear, CaseUnit, ScreeningCase,  # noqa: F401
                                  ScreeningChainUnit, ScreeningDefaultUnit, ScreeningOpinion,
                                  ScreeningSettings, ScreeningThreshold)
from crm.decisions.models import (AgendaItem, Attendee, DecisionRules, GroupMember, Meeting,  # noqa: F401
                                  Proposal, Vote)
from crm.scoring.models import LeadScore, ScoringModel, ScoringSettings  # noqa: F401
from crm.attachments.models import Attachment  # noqa: F401
from crm.papers.models import DocumentCounter, DocumentNumber, PaperSettings  # noqa: F401
from crm.tracking.models import (Agreement, InvestmentEntry, MilestoneActual, MilestonePlan,  # noqa: F401
                                 StepDefinition, StepRecord, TrackingSettings, YearlyResult)
from crm.lights.models import LightChange, ProjectLight  # noqa: F401
from crm.letters.models import Letter  # noqa: F401
from crm.problems.models import Problem  # noqa: F401
from crm.bulletins.models import Bulletin  # noqa: F401
from crm.contacts.models import LeadContact  # noqa: F401
from crm.outbox import OutboxJob  # noqa: F401
