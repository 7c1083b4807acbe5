actionsctl local up --api-port 8000 --aws-port 4566 # what `make run` starts
actionsctl webhook send github                     # a signed sample, to the stack's WebhookUrl
actionsctl webhook send stripe --sample tampered   # one the receiver must refuse
actionsctl webhook send hmac --body '{"x": 1}' --secret "$SECRET" --url https://abc123.execute-api.us-east-1.amazonaws.com/v1/webhooks/
