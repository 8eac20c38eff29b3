"""月晒季考: units ranked per month, quarter or year on signings, starts, completions, productions,
上规, 23-step points, screening on-time rate, letters received and problems solved."""


def init_app(app) -> None:
    """Called once from create_app: the blueprint."""
    from crm.ranking.views import bp

    app.register_blueprint(bp)
