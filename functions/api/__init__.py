"""The actions HTTP API: enqueue, list, read, cancel and run actions over HTTP.

The same operations as ``functions.actions``, for applications in any language. The
route logic here knows nothing of how a caller was authenticated: the actions API's
handler (functions/handlers/actions_api.py, IAM-signed requests) includes ``routes``,
and so can a handler behind another authorizer. One JSON form of an action, the typed
record's (``Action.to_document``), for every answer.
Why: docs/decisions/0050-the-actions-http-api.md
"""
