"""督查通报: the monthly bulletin (ranking, red projects, overdue letters and problems, screening
timeliness), written by a periodic job on the first working day of each month or on demand."""


def init_app(app) -> None:
    """Called once from create_app: the blueprint."""
    from crm.bulletins.views import bp

    app.register_blueprint(bp)
