"""Layout of the chain map: nodes in three columns (upstream → midstream → downstream), drawn as
an inline SVG by templates/chains/map.html (no script, so it prints and works offline)."""
from __future__ import annotations

from dataclasses import dataclass

from crm.chains.models import INTENT_CHINESE, ChainNode, Tier
from crm.chains.queries import NodeFigures

BOX_W, BOX_H, GAP_Y, COL_W, TOP, LEFT = 230, 70, 14, 300, 44, 10


@dataclass
class Box:
    node: ChainNode
    figures: NodeFigures
    x: int
    y: int
    intent_mark: str

    @property
    def cx(self) -> int:
        return self.x + BOX_W // 2


@dataclass
class Column:
    tier: Tier
    x: int
    boxes: list[Box]


@dataclass
class Layout:
    columns: list[Column]
    width: int
    height: int
    box_w: int = BOX_W
    box_h: int = BOX_H

    @property
    def arrows(self) -> list[tuple[int, int, int]]:
        """(x1, x2, y) of the arrow between two neighbouring columns."""
        y = TOP + (self.height - TOP) // 2 - 10
        return [(c.x + BOX_W + 8, n.x - 8, y) for c, n in zip(self.columns, self.columns[1:])]


def layout(nodes: list[ChainNode], figures: dict[int, NodeFigures]) -> Layout:
    columns = []
    for index, tier in enumerate(Tier):
        x = LEFT + index * COL_W
        tier_nodes = sorted((n for n in nodes if n.tier == tier), key=lambda n: (n.position, n.id))
        boxes = [Box(n, figures.get(n.id) or NodeFigures(n.id), x, TOP + i * (BOX_H + GAP_Y),
                     INTENT_CHINESE.get(n.intent, "")[:1] if n.intent else "")
                 for i, n in enumerate(tier_nodes)]
        columns.append(Column(tier, x, boxes))
    rows = max((len(c.boxes) for c in columns), default=0)
    height = TOP + max(rows, 1) * (BOX_H + GAP_Y) + 10
    return Layout(columns, LEFT + len(columns) * COL_W - (COL_W - BOX_W) + LEFT, height)
