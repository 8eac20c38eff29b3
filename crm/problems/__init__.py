"""问题清单: problems raised on a tracked project, solved by the responsible unit."""


def init_app(app) -> None:
    """Called once from create_app: the blueprint, the panels and the signal receivers."""
    from crm.problems.panels import project_panel, unit_panel
    from crm.problems.views import bp
    from crm.tracking.panels import Panel, register_panel

    app.register_blueprint(bp)
    register_panel(app, "project", Panel("problems", "problems/_project_panel.html", project_panel, order=60))
    register_panel(app, "unit", Panel("problems", "problems/_unit_panel.html", unit_panel, order=60))
