"""The health check: is the system keeping up, and if not, why.

Served by ``GET /health`` (``functions.handlers.health``) and ``actionsctl health``.
"""
