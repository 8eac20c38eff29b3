"""Test data factories: each flushes and returns the object, inside the test's transaction."""
from __future__ import annotations

import itertools
from decimal import Decimal

from stdnum.cn import uscc

PASSWORD = "correct-horse-42"
_seq = itertools.count(1)


def _db():
    from crm.extensions import db

    return db.session


def unit(name=None, kind="town"):
    from crm.auth.models import Unit

    u = Unit(name=name or f"测试镇{next(_seq)}", kind=kind)
    _db().add(u)
    _db().flush()
    return u


def user(roles=("officer",), unit_=None, username=None, password=PASSWORD, full_name=None, locale="zh"):
    from crm.auth.services import create_user

    n = next(_seq)
    return create_user(username or f"user{n}", password, unit_ or unit(), list(roles),
                       full_name or f"测试用户{n}", locale=locale)


def valid_uscc(n: int | None = None) -> str:
    body = f"91350428MA{(n or next(_seq)):07d}"[:17]
    return body + uscc.calc_check_digit(body)


def chain(name=None, nodes=("上游节点", "中游节点")):
    from crm.chains.models import Chain, ChainNode

    n = next(_seq)
    c = Chain(code=f"chain{n}", name=name or f"测试产业链{n}")
    c.nodes = [ChainNode(name=node, tier="upstream", position=i) for i, node in enumerate(nodes)]
    _db().add(c)
    _db().flush()
    return c


def source(name=None, kind="chamber"):
    from crm.leads.models import Source

    s = Source(name=name or f"测试商会{next(_seq)}", kind=kind)
    _db().add(s)
    _db().flush()
    return s


def lead(owner=None, unit_=None, **fields):
    from crm.leads.services import create_lead

    owner = owner or user(unit_=unit_)
    data = {"company_name": f"福建测试科技有限公司{next(_seq)}",
            "fixed_asset_investment_wan": Decimal("30000"), "land_area_mu": Decimal("100"),
            "expected_tax_wan": Decimal("800")}
    data.update(fields)
    return create_lead(data, unit_ or owner.unit, owner, confirmed_duplicate=True)


def reload(obj):
    """The row as stored now (the request that changed it has closed its session)."""
    _db().expire_all()
    return _db().get(type(obj), obj.id)


def member_unit(name=None):
    """A department asked in pre-screening, with its screening liaison: (unit, screener)."""
    u = unit(name or f"测试局{next(_seq)}", kind="department")
    return u, user(roles=("screener",), unit_=u)


def negotiating_lead(owner=None, **fields):
    from crm.leads.services import change_stage

    created = lead(owner=owner, **fields)
    change_stage(created, "negotiating", created.owner)
    return created


def opinion_form(verdict="approve", materials=(), comment="", conditions="", ratings=4, version=0):
    data = {"verdict": verdict, "materials_other": "\n".join(materials), "comment": comment,
            "conditions": conditions, "based_on_version": str(version)}
    data.update({f"rating_{d}": str(ratings) for d in ("scale", "intensity", "tech", "prospects", "compliance")})
    return data


def stage_reached(lead_, stage: str, day, implied: bool = False):
    """A row of the cockpit's stage_reached projection, written directly (hand-made rate cases)."""
    from crm.leads.models import StageReached

    row = StageReached(lead_id=lead_.id, stage=stage, reached_on=day, implied=implied)
    _db().add(row)
    _db().flush()
    return row
