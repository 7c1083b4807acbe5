actionsctl dlq list                                # the default queue's dead letters
actionsctl dlq list --queue high --hook send_email --error timeout --json
actionsctl dlq redrive --hook send_email           # only that hook's, one by one
actionsctl dlq redrive --group acme --rate 5       # at most 5 a second
actionsctl dlq redrive --yes                       # everything (asks without --yes)
actionsctl dlq redrive --native --yes              # SQS's own move task: fast, keeps attempts
