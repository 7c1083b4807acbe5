#!/usr/bin/env bash
# Make a person an operator of the deployed console (a viewer: --group-name viewers).
POOL=$(aws cloudformation describe-stacks --stack-name ActionScheduler \
  --query "Stacks[0].Outputs[?OutputKey=='ConsoleUserPoolId'].OutputValue" --output text)
aws cognito-idp admin-create-user --user-pool-id "$POOL" --username alice \
  --user-attributes Name=email,Value=alice@example.com Name=email_verified,Value=true
aws cognito-idp admin-add-user-to-group --user-pool-id "$POOL" --username alice \
  --group-name operators
