"""Flows and the CLI: compose the stages. Nothing imports this package but its own entry points."""

import os

# No internet here or on many operators' hosts: Prefect's telemetry would only log errors.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
