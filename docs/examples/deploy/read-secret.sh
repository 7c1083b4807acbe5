aws secretsmanager get-secret-value --secret-id ActionScheduler/webhooks/github \
  --query SecretString --output text
