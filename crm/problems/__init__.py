"""问题清单: problems raised on a tracked project, solved by the responsible unit."""


def init_app(app) -> None:
    """Called once from create_app: the blueprint, the panels and the signal receivers."""
