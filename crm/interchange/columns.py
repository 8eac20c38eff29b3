"""The lead interchange file (DOMAIN.md): its columns, English keys and Chinese headers.

Import accepts either name for a column, in any order; export writes the Chinese headers by
default (English keys on request), then the derived and scored columns.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str  # text, note, uscc, chain, node, source_kind, amount, area, bool, int, percent, probability, unit, date, stage, phone
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("company_name", "企业名称", "text", required=True),
    Column("uscc", "统一社会信用代码", "uscc"),
    Column("project_name", "项目名称", "text"),
    Column("industry", "产业链", "chain"),
    Column("chain_node", "产业链环节", "node"),
    Column("source_kind", "线索来源类型", "source_kind"),
    Column("source_name", "线索来源", "text"),
    Column("origin_region", "客商所在地", "text"),
    Column("planned_investment_wan", "计划总投资(万元)", "amount"),
    Column("fixed_asset_investment_wan", "固定资产投资(万元)", "amount"),
    Column("land_area_mu", "用地面积(亩)", "area"),
    Column("expected_output_wan", "预计年产值(万元)", "amount"),
    Column("expected_tax_wan", "预计年税收(万元)", "amount"),
    Column("high_tech", "高新技术企业", "bool"),
    Column("specialized", "专精特新", "bool"),
    Column("patents", "专利数", "int"),
    Column("rd_ratio", "研发投入占比(%)", "percent"),
    Column("jobs", "预计用工", "int"),
    Column("owner_unit", "责任单位", "unit"),
    Column("created_on", "录入日期", "date"),
    Column("stage", "阶段", "stage"),
    Column("signed_on", "签约日期", "date"),
    Column("started_on", "开工日期", "date"),
    Column("lost_reason", "终止原因", "text"),
    Column("note", "备注", "note"),
    # The primary contact (crm.contacts.interchange); the phone is personal data.
    Column("contact_name", "联系人", "text"),
    Column("contact_title", "职务", "text"),
    Column("contact_phone", "联系电话", "phone"),
)

# Written by exports after the interchange columns; ignored by imports. 线索编号 is the lead's id,
# the number the 招商作战表 (crm.chains.columns, lead_id) and the lead page show.
DERIVED_COLUMNS: tuple[Column, ...] = (
    Column("lead_number", "线索编号", "int"),
    Column("officer", "责任人", "text"),              # the owner officer's name
    Column("last_follow_up", "最近跟进", "text"),      # date and kind of the latest follow-up
    Column("next_follow_up", "下次跟进", "date"),      # the next date that follow-up set
    Column("investment_intensity", "投资强度(万元/亩)", "amount"),
    Column("tax_per_mu", "亩均税收(万元/亩)", "amount"),
    Column("p_sign", "签约概率", "probability"),   # 0–1; a percentage format in .xlsx
    Column("p_land", "落地概率", "probability"),
    Column("score_grade", "评级", "text"),
    Column("model_version", "模型版本", "text"),
)

BY_KEY = {c.key: c for c in COLUMNS + DERIVED_COLUMNS}


def header_key(text: str) -> str:
    """Comparable form of a header: full-width folded (（）→()), spaces and case ignored."""
    folded = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    return "".join(folded.split())


# Either the English key or the Chinese header names a column.
HEADER_LOOKUP: dict[str, Column] = {}
for _col in COLUMNS + DERIVED_COLUMNS:
    HEADER_LOOKUP[header_key(_col.key)] = _col
    HEADER_LOOKUP[header_key(_col.header)] = _col

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text that Excel would run as a formula is written as text (prefixed with ')."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
