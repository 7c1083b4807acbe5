export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_DEFAULT_REGION=us-east-1 \
       AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local ACTION_SCHEDULER_STACK=ActionScheduler
.venv/bin/actionsctl webhook send github                 # HTTP 202 {"delivery_id", "action_id", "status": "queued"}
.venv/bin/actionsctl webhook send github                 # HTTP 200: the same delivery, accepted once
.venv/bin/actionsctl webhook send stripe --sample tampered   # HTTP 401 invalid_signature
.venv/bin/actionsctl actions list --status complete      # the process_webhook action, done
.venv/bin/actionsctl schedule cron "0 9 * * 1-5" daily_report --timezone Europe/Paris
.venv/bin/actionsctl schedule now start_order_saga --args '{"order_id": "o-1", "amount": 100}'
.venv/bin/actionsctl actions counts
.venv/bin/actionsctl health                              # healthy: queues, dead letters, circuits
curl -i http://127.0.0.1:8000/v1/health                  # the same check, as a monitor sees it
