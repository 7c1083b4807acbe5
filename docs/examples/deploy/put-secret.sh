aws secretsmanager put-secret-value --secret-id ActionScheduler/webhooks/stripe \
  --secret-string '["whsec_..."]'
