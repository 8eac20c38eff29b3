"""Interchange files for tests, written the way offices write them."""
from __future__ import annotations

import io
import zipfile

import openpyxl

HEADERS = ["企业名称", "统一社会信用代码", "项目名称", "线索来源类型", "线索来源", "计划总投资(万元)",
           "固定资产投资(万元)", "用地面积(亩)", "预计年税收(万元)", "高新技术企业", "录入日期", "阶段"]


def xlsx(rows, headers=HEADERS, title=None, merge=None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(rows, headers=HEADERS, encoding="utf-8-sig") -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    return out.getvalue()


def row(name="福建富远铝业有限公司", uscc="", project="再生铝项目", kind="商会", source="上海将乐商会",
        planned="1.2亿", fixed="8000", land="40", tax="300", high_tech="是", created="2024年3月5日", stage="洽谈"):
    return [name, uscc, project, kind, source, planned, fixed, land, tax, high_tech, created, stage]


def run_import(client, user, content: bytes, filename: str = "线索.xlsx", **extra) -> str:
    """Upload `content` as `user` (logged in on `client`) to create leads in the user's unit,
    confirm the preview and run the import job here: the job's status ("done", "failed")."""
    from crm.interchange.jobs import run_import_job

    data = {"file": (io.BytesIO(content), filename), "mode": "create", "unit_id": user.unit_id, **extra}
    response = client.post("/imports/new", data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    batch_id = int(response.location.rsplit("/", 1)[1])
    client.get(response.location)
    assert client.post(f"/imports/{batch_id}/confirm", {}).status_code == 302
    with client.raw.application.app_context():
        return run_import_job(batch_id)
