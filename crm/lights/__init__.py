"""亮灯预警: each tracked project's light (green / yellow / red) with every reason in words."""


def init_app(app) -> None:
    """Called once from create_app: the blueprint, the panels and the signal receivers."""
