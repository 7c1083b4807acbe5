actionsctl health                 # verdict, reasons, a table of queues and dead letters
actionsctl health --json          # the endpoint's body, with "sample" ids and circuit names
actionsctl health && echo ok      # exit code: 0 healthy, 1 unhealthy (or the check could not start)
