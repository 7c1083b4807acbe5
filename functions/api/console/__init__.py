"""The console's JSON API (``/console/api/...``, Cognito): what the console page reads and does.

One implementation with the actions API: actions are listed, read, run and canceled
through ``functions.api.actions`` and ``functions.actions``; dead letters through
``functions.actions.redrive``; the health report through ``functions.health``; sagas
through ``functions.sagas.executions``. What is the console's own: who may do what
(``access``), the list's rows and search (``listing``), the tally behind the tabs
(``tally``), and what it reads from CloudWatch (``metrics``).
Contract: docs/reference/console-api.md. Why: docs/decisions/0057-the-console-api.md.
"""
