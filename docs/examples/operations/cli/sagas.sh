actionsctl saga list --status failed --limit 20    # executions, newest first (--status also:
                                                   #   running, succeeded, timed-out, aborted; --json)
actionsctl saga get order-o-42                     # status, error, the states it entered,
                                                   #   the action that started it (--json)
