"""A team's hooks, kept outside the scheduler's repository.

Deploy them with ``-c hookPackages=examples/hook_package`` (or ``"hookPackages":
["examples/hook_package"]`` in cdk.json): every module of this package is a hook module,
imported by the worker on its own.
"""
