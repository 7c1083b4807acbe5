"""Compensation flows (sagas) on Step Functions: the code of each step and compensation.

Every step and compensation is a plain function registered under a task name; one
Lambda (``functions/handlers/saga.py``) runs them all, and the state machine built by
``infra/constructs/saga.py`` calls it with ``{"task": <name>, ...}``. ``outcomes``
records how each execution ended on the action that started it; ``executions`` starts
executions and reads them back.
"""
