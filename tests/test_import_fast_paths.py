"""The import's fast paths give exactly what the general code gives (issue 19): the USCC's
common case as python-stdnum, the company key without its character-by-character look-up, the
totals check's numbers without float() failing, each cell text parsed once per file, stage
dates computed from the history just written, and Python's collector settings given back."""
from __future__ import annotations

import gc
import math
import random
import re
import unicodedata

import pytest
from sqlalchemy import func, select
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumError
from wtforms.validators import ValidationError

from crm.extensions import db
from crm.leads import names
from crm.leads.forms import _plain_valid_uscc, validate_uscc
from crm.leads.models import Lead, StageReached
from tests import factories
from tests.import_files import HEADERS, csv_bytes, row, run_import, xlsx

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _codes():
    rng = random.Random(19)
    codes = []
    for _ in range(2000):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(rng.choice(_ALPHABET) for _ in range(9))
        codes.append(body + stdnum_uscc.calc_check_digit(body))  # valid
        codes.append(body + rng.choice(_ALPHABET))                # a check digit at random: mostly wrong
        codes.append(body.lower() + stdnum_uscc.calc_check_digit(body))  # lower case
    codes += ["91350428MA31234567", "9135 0428-MA3123456X", "91350428MA3123456", "A1350428MA3123456X",
              "91350428MA3I23456X", "91350428MA3O23456X", "９１３５０４２８ＭＡ３１２３４５６Ｘ",
              "91350428MA3123456X\n", " 91350428MA3123456X ", "91350428ＭA3123456X", "913504280000000000"]
    return codes


def test_the_uscc_fast_path_agrees_with_python_stdnum():
    for code in _codes():
        try:
            expected = stdnum_uscc.validate(code.upper())
        except StdnumError:
            expected = None
        # The fast path says yes only to codes stdnum returns unchanged …
        assert _plain_valid_uscc(code.upper()) == (expected is not None and expected == code.upper()), code
        # … and validate_uscc answers as stdnum, with or without it.
        try:
            got = validate_uscc(code)
        except ValidationError:
            got = None
        assert got == expected, code


def test_no_character_the_company_key_fast_path_passes_is_invisible():
    pattern = names._NONE_INVISIBLE.pattern
    ranges = re.findall(r"(.)-(.)", pattern.strip("[]*"))
    assert len(ranges) == 4
    for low, high in ranges:
        for code in range(ord(low), ord(high) + 1):
            assert unicodedata.category(chr(code)) not in names._INVISIBLE, hex(code)


def test_the_company_key_fast_path_gives_the_same_keys(monkeypatch):
    samples = ["浙江众瑞铝业有限公司", "北京利鑫诚电器有限公司", "福建 富远（中国）铝业股份有限公司", "ABC Trading Co.",
               "厦门\u200b金达集团", "Café Électrique 有限公司", "臺灣積體電路製造股份有限公司", "Ｆｕｌｌ　ｗｉｄｔｈ公司",
               "株式会社ガ\u3099ス", "\ufeff三明一厂", "将乐县2号仓储有限责任公司", "", "   "]
    fast = [names.normalize_company_name(s) for s in samples]
    monkeypatch.setattr(names, "_NONE_INVISIBLE", re.compile(r"(?!x)x"))  # never matches: the long way
    assert fast == [names.normalize_company_name(s) for s in samples]


def test_the_totals_check_reads_numbers_as_float_does():
    from crm.interchange.totals import _number

    def by_float(text):
        try:
            number = float(text.strip().replace(",", ""))
        except ValueError:
            return None
        return number if math.isfinite(number) else None

    for text in ["", "  ", "12", " 1,234.5 ", "１２", "٣٤", "inf", "-Infinity", "nan", "NaN", "-1", "+.5", ",5",
                 ", 5", "e5", "1e5", "abc", "合计", "2025-06-30", "1_000", "_1", "−1", "\u00a012", "913301068396751182",
                 "91110108919506330K", "约5000", "1.2亿", "是", "lost", "\u200b1"]:
        assert _number(text) == by_float(text), text


def _reader_rows(app, cells_list, fresh: bool):
    from crm.interchange.readers import _with_headers
    from crm.interchange.rows import Lookups, RowReader

    headers = cells_list[0]
    table = _with_headers(iter([headers]), merged=[])
    lookups = Lookups()
    reader = RowReader(table.columns, lookups)
    out = []
    for number, cells in enumerate(cells_list[1:], start=2):
        row = (RowReader(table.columns, lookups) if fresh else reader).check(number, cells)
        out.append((row.values, row.errors, row.notes, row.unit_name, row.source_name, row.new_chain, row.new_node))
    return out


def test_a_cell_text_parsed_once_gives_each_row_what_a_fresh_check_gives(app, db_session):
    factories.source("上海将乐商会", kind="chamber")
    bad = row(planned="约5000", created="2024-13-01", tax="三百", high_tech="也许", stage="签约", land="-3")
    rows = [HEADERS, row(), bad, row(name="乙公司"), bad, row(name="丙公司", planned="约5000", created="2024年3月5日"),
            bad, [""] * len(HEADERS), row(name="丁公司", kind="不知道")]
    with app.test_request_context():
        assert _reader_rows(app, rows, fresh=False) == _reader_rows(app, rows, fresh=True)


# --- through the import --------------------------------------------------------------------------

def _stage_reached():
    return sorted(db.session.execute(select(StageReached.lead_id, StageReached.stage, StageReached.reached_on,
                                            StageReached.implied)).all())


@pytest.fixture()
def admin(client, db_session):
    user = factories.user(roles=["admin"])
    factories.source("上海将乐商会", kind="chamber")
    client.login(user)
    return user


def test_stage_dates_of_imported_leads_are_those_a_rebuild_computes(client, admin):
    from crm.dashboard.stage_dates import rebuild

    content = csv_bytes([row(name=f"公司{i}", stage=stage) + ([""] if stage != "终止" else ["资金不到位"])
                         for i, stage in enumerate(["洽谈", "线索", "终止", "洽谈"])], HEADERS + ["终止原因"])
    assert run_import(client, admin, content, filename="线索.csv") == "done"
    ledger = xlsx([row(name="甲签约公司", stage="签约", created="2021-01-04") + ["2021-05-10", "", ""],
                   row(name="乙开工公司", stage="开工", created="2019-11-02") + ["2020-03-01", "2020-09-15", ""],
                   row(name="丙投产公司", stage="投产", created="2018-02-01") + ["2018-06-01", "2019-01-10", ""],
                   row(name="丁终止公司", stage="终止") + ["", "", "投资方资金链断裂"]],
                  HEADERS + ["签约日期", "开工日期", "终止原因"])
    assert run_import(client, admin, ledger, history="y") == "done"
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 8
    written = _stage_reached()
    assert {stage for _i, stage, _d, _m in written} >= {"negotiating", "signed", "started"}
    rebuild()
    assert _stage_reached() == written


def test_the_collector_settings_are_given_back_after_an_import(client, admin):
    threshold = gc.get_threshold()
    assert run_import(client, admin, xlsx([row(), row(name="乙公司")])) == "done"
    assert gc.get_threshold() == threshold and gc.get_freeze_count() == 0
    assert run_import(client, admin, xlsx([row(name="丙公司", created="明天")])) == "failed"
    assert gc.get_threshold() == threshold and gc.get_freeze_count() == 0
