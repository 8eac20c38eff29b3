"""三函 (衡东): reminder, assignment and supervision letters to the responsible unit."""


def init_app(app) -> None:
    """Called once from create_app: the blueprint, the panels and the signal receivers."""
    from crm.letters.panels import register_panels
    from crm.letters.views import bp

    app.register_blueprint(bp)
    register_panels(app)

    def letter_paper(letter):
        from crm.letters.paper import letter_content

        return letter_content(letter)

    app.jinja_env.globals.update(letter_paper=letter_paper)
