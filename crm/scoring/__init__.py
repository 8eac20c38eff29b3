"""Scoring: the chance that a lead signs (p_sign) and lands (p_land), trained and run as RQ jobs."""
