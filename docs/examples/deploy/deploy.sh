make deploy                                  # = npx cdk deploy, stack "ActionScheduler"
npx cdk deploy -c stackName=Jobs-staging     # a second copy under another name
