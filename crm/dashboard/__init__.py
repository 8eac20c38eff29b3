"""The leadership cockpit (驾驶舱): the county's figures for a period, unit and chain, each with
how it is computed and a link to the records behind it. The ranking (月晒季考) and the monthly
bulletin (督查通报) are their own packages, crm.ranking and crm.bulletins."""


def init_app(app) -> None:
    """Called once from create_app: the blueprint, the sections and the stage-dates projection."""
    from crm.dashboard import breakdowns, figures, funnel, rates, targets, timeliness, watch
    from crm.dashboard.sections import Section, register_section
    from crm.dashboard.stage_dates import connect
    from crm.dashboard.views import bp

    app.register_blueprint(bp)
    connect()
    for section in (
        Section("headline", "dashboard/_headline.html", figures.headline, order=10, cache=True),
        Section("rates", "dashboard/_rates.html", rates.rates, order=20, cache=True),
        Section("funnel", "dashboard/_funnel.html", funnel.funnel, order=30, cache=True),
        Section("watch", "dashboard/_watch.html", watch.watch, order=40, cache=True, period_bound=False),
        Section("by_origin", "dashboard/_by_origin.html", breakdowns.by_origin, order=50, cache=True),
        Section("screening", "dashboard/_screening.html", timeliness.screening, order=60, cache=True),
        Section("targets", "dashboard/_targets.html", targets.targets, order=70, cache=True),
    ):
        register_section(app, section)
