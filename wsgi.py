"""gunicorn entry point: gunicorn -w 4 -b 127.0.0.1:8000 wsgi:app"""
import gc

from crm import create_app

app = create_app()
# What start-up made (the app, the mappers, the translations, scikit-learn) lives as long as the
# process: kept out of the collector's sight, a full collection takes ~0.2 ms instead of ~100 ms
# (the lead list's slowest requests; benchmarks/README.md).
gc.freeze()
