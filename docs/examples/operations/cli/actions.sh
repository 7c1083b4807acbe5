actionsctl actions list --status past-due          # pending and due (also: pending, running,
                                                   #   complete, failed, canceled)
actionsctl actions list --hook send_email --group crm --from 2026-12-01T00:00:00Z --json
actionsctl actions counts                          # per status: the console's tally, with its age
actionsctl actions counts --exact                  # counted now, by index queries (no scans)
actionsctl actions counts --hook send_email        # one hook's, counted now
actionsctl hooks list                              # each hook's queue, priority, attempts, circuit
actionsctl action get 4f7c9a5e-0000-4000-8000-000000000000 # status, attempts, last error, log
actionsctl action cancel 4f7c9a5e-0000-4000-8000-000000000000 # a pending action (deletes its schedule)
actionsctl action run 4f7c9a5e-0000-4000-8000-000000000000 # a pending one-off action, now
actionsctl schedule now send_email --args '{"to": "a@example.com"}'
actionsctl schedule at 2026-12-24T18:00:00+01:00 send_email --args '{"to": "b@example.com"}'
actionsctl schedule every 3600 sync_external_api --group crm --unique
actionsctl schedule cron "30 8 * * 1-5" daily_report --timezone Europe/Paris
