make deploy                                           # = npx cdk deploy, stack "ActionScheduler"
make deploy CONTEXT='-c stackName=Jobs-staging'       # a second copy under another name
make deploy CONTEXT='-c stage=prod -c stackName=Jobs-prod -c alarmEmail=ops@example.com'
