"""The model registry and each lead's score history."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.database import Base, utcnow


class Target(StrEnum):
    SIGN = "sign"
    LAND = "land"


TARGET_LABELS = {Target.SIGN: _l("Signing"), Target.LAND: _l("Landing (construction starts)")}


class ModelStatus(StrEnum):
    TRAINING = "training"
    CANDIDATE = "candidate"
    ACTIVE = "active"
    RETIRED = "retired"
    FAILED = "failed"


STATUS_LABELS = {ModelStatus.TRAINING: _l("Training"), ModelStatus.CANDIDATE: _l("Candidate"),
                 ModelStatus.ACTIVE: _l("Active"), ModelStatus.RETIRED: _l("Retired"),
                 ModelStatus.FAILED: _l("Failed")}


class ScoringModel(Base):
    """One trained version for one target: where its file is, its checksum and its metrics."""

    __tablename__ = "scoring_models"
    __audit__ = True
    __table_args__ = (UniqueConstraint("target", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)  # why it is a candidate, or why it failed
    file_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(80))
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    positives: Mapped[int] = mapped_column(Integer)
    negatives: Mapped[int] = mapped_column(Integer)
    holdout_size: Mapped[int] = mapped_column(Integer)
    roc_auc: Mapped[float | None] = mapped_column(Float)
    pr_auc: Mapped[float | None] = mapped_column(Float)
    brier: Mapped[float | None] = mapped_column(Float)
    # The active version's AUC on this version's holdout, when there was one (the comparison).
    previous_auc: Mapped[float | None] = mapped_column(Float)
    calibration: Mapped[list] = mapped_column(JSON, default=list)     # [{bin, predicted, observed, n}]
    importances: Mapped[list] = mapped_column(JSON, default=list)     # [{feature, importance}]
    feature_spec: Mapped[dict] = mapped_column(JSON, default=dict)    # vocabularies, reference values
    training_seconds: Mapped[float] = mapped_column(Float)
    library_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column()

    @property
    def label(self) -> str:
        return f"{self.target}-v{self.version}"

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))


class LeadScore(Base):
    """A lead's scores at one moment (the lead page draws their history)."""

    __tablename__ = "lead_scores"
    __table_args__ = (Index("ix_lead_scores_lead_scored", "lead_id", "scored_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    p_sign: Mapped[float] = mapped_column(Float)
    p_land: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(2))
    source: Mapped[str] = mapped_column(String(8))  # model / prior
    model_version: Mapped[str] = mapped_column(String(40))
    # {"sign": [{group, points}], "land": [...], "values": {the lead's figures}} (crm.scoring.scoring)
    factors: Mapped[dict] = mapped_column(JSON, default=dict)
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)

    def factor_lines(self, target: str = "sign") -> list[dict]:
        """The factors worded in the current language: [{group, points, text}]."""
        from crm.scoring.scoring import factor_lines

        return factor_lines(self.factors, target)

    def breakdown(self, target: str = "sign") -> dict | None:
        """The base chance, the factors and the chance, shown so that they add up (None for
        scores stored before the factors did)."""
        from crm.scoring.wording import breakdown

        return breakdown(self.factors, target)

    @property
    def background_size(self) -> int:
        from crm.scoring.shapley import BACKGROUND_SIZE

        return BACKGROUND_SIZE

    @property
    def group_count(self) -> int:
        from crm.scoring.features import GROUPS

        return len(GROUPS)

    @staticmethod
    def target_label(target: str) -> str:
        return str(TARGET_LABELS.get(target, target))


class ScoringSettings(Base):
    """The grade cut-offs on p_sign (one row, id 1): A ≥ grade_a > B ≥ grade_b > C ≥ grade_c > D."""

    __tablename__ = "scoring_settings"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    grade_a: Mapped[float] = mapped_column(Float, default=0.6)
    grade_b: Mapped[float] = mapped_column(Float, default=0.35)
    grade_c: Mapped[float] = mapped_column(Float, default=0.15)
