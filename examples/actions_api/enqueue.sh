#!/usr/bin/env bash
# Enqueue an action through the actions API with curl's own SigV4 signing (curl 7.75+).
# ACTIONS_API_URL is the stack's output ActionsApiUrl; credentials and region come from
# the usual AWS variables. Prints the API's answer: the action, as JSON.
set -euo pipefail

region="${AWS_REGION:-${AWS_DEFAULT_REGION:?set AWS_REGION}}"
token=()  # temporary credentials (a role) come with a session token, sent signed
if [[ -n "${AWS_SESSION_TOKEN:-}" ]]; then
  token=(-H "X-Amz-Security-Token: ${AWS_SESSION_TOKEN}")
fi

# The same Idempotency-Key again answers the first result: run it twice, one action.
curl --silent --show-error --fail-with-body \
  --aws-sigv4 "aws:amz:${region}:execute-api" \
  --user "${AWS_ACCESS_KEY_ID}:${AWS_SECRET_ACCESS_KEY}" \
  "${token[@]}" \
  -H "Content-Type: application/json" \
  -H "Idempotency-Key: welcome-a@example.com" \
  --data '{"hook": "send_email", "args": {"to": "a@example.com", "subject": "Hi"}}' \
  "${ACTIONS_API_URL}"
echo
