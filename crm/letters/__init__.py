"""三函 (衡东): reminder, assignment and supervision letters to the responsible unit."""


def init_app(app) -> None:
    """Called once from create_app: the blueprint, the panels and the signal receivers."""
