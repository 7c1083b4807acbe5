aws cloudformation describe-stacks --stack-name ActionScheduler \
  --query 'Stacks[0].Outputs' --output table     # note what is kept, by name
npx cdk destroy                                  # add -c stackName=... -c stage=... as deployed
