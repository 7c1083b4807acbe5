"""Payloads: args and webhook bodies too large to travel inline, kept in S3 (claim check).

``ref`` is the reference an envelope and an action carry instead of the args; ``store``
puts args into the payload bucket and loads them back (it owns the S3 client); ``config``
reads the bucket's name and the inline threshold. This package never imports
``functions.actions``: the actions runtime decides what to keep here, and when.
Why: docs/decisions/0035-large-args-travel-by-claim-check.md
"""
