"""督查通报: the monthly bulletin (ranking, red projects, overdue letters and problems, screening
timeliness), written by a periodic job on the first working day of each month or on demand."""


def init_app(app) -> None:
    """Called once from create_app: the blueprint, and the paper's content for the printable page."""
    from crm.bulletins.views import bp

    app.register_blueprint(bp)

    def bulletin_paper(bulletin):
        from crm.bulletins.paper import bulletin_content

        return bulletin_content(bulletin)

    app.jinja_env.globals.update(bulletin_paper=bulletin_paper)
