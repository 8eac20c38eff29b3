"""亮灯预警: each tracked project's light (green / yellow / red) with every reason in words."""


def init_app(app) -> None:
    """Called once from create_app: the panel, the badge helper and the signal receivers."""
    from crm import signals
    from crm.lights.panels import light_badge, project_panel
    from crm.lights.receivers import connect_session, on_project_changed, on_stage_changed
    from crm.tracking.panels import Panel, register_panel

    register_panel(app, "project", Panel("light", "lights/_project_panel.html", project_panel, order=10))
    app.jinja_env.globals["light_badge"] = light_badge
    signals.project_changed.connect(on_project_changed)
    signals.lead_stage_changed.connect(on_stage_changed)
    connect_session()
