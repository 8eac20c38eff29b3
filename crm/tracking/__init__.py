"""After admission: the agreement (投资协议), milestones planned and actual, 到资, yearly results,
and the 23 steps with points (将乐). Lights, letters and problems are their own packages."""


def init_app(app) -> None:
    """Called once from create_app: the blueprint, the panels and the signal receivers."""
    from crm.tracking import result_views, step_views  # noqa: F401  (their routes join bp)
    from crm.tracking.views import bp

    app.register_blueprint(bp)
    from crm.tracking.core_panels import init_core

    init_core(app)  # the agreement, milestones and 到资 panels, the 'milestone' files, stage ⇄ milestones
    from crm.tracking.step_panels import init_steps

    init_steps(app)  # the steps, results and 履约/亩均 panels, the 'step' files
