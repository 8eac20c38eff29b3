"""The columns of the 招商作战表 (target list): written by the export, read back by the target
import, so an exported file can be edited and imported again. Chinese headers; the English key
also names a column on import."""
from __future__ import annotations

from crm.interchange.columns import Column, header_key

TARGET_COLUMNS: tuple[Column, ...] = (
    Column("chain", "产业链", "chain", required=True),
    Column("node", "产业链环节", "node", required=True),
    Column("tier", "链位", "tier"),                      # 上游/中游/下游; export only
    Column("company_name", "目标企业名称", "text", required=True),
    Column("uscc", "统一社会信用代码", "uscc"),
    Column("location", "企业所在地", "text"),
    Column("reason", "招商方向", "intent", required=True),  # 补链/延链/强链
    Column("note", "招引理由", "text"),
    Column("priority", "优先级", "priority"),            # 高/中/低
    Column("unit", "责任单位", "unit", required=True),
    Column("officer", "责任人", "officer"),               # the officer's name (or user name)
    Column("status", "对接状态", "target_status"),        # 未接触/已接触/已转线索/已放弃
    Column("lead_id", "线索编号", "int"),                 # export only: the lead once converted
)

# Written by the export, ignored by the import (the lead link is made by converting).
EXPORT_ONLY = frozenset({"tier", "lead_id"})

TARGET_HEADER_LOOKUP: dict[str, Column] = {}
for _col in TARGET_COLUMNS:
    TARGET_HEADER_LOOKUP[header_key(_col.key)] = _col
    TARGET_HEADER_LOOKUP[header_key(_col.header)] = _col
# Headers offices commonly use for the same things.
for _alias, _key in (("企业名称", "company_name"), ("环节", "node"), ("所在地", "location"),
                     ("方向", "reason"), ("说明", "note"), ("状态", "status"), ("备注", "note")):
    TARGET_HEADER_LOOKUP[header_key(_alias)] = next(c for c in TARGET_COLUMNS if c.key == _key)
