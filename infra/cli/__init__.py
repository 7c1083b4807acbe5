"""The operator CLI, ``actionsctl``: works against AWS and against the local cloud."""
