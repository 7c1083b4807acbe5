# the local cloud: the whole stack on this machine, on 127.0.0.1 (Ctrl-C stops it)
make run
# with CDK context over cdk.json's, as `npx cdk synth -c` takes it
make run CONTEXT='-c stage=prod -c stackName=Jobs'
# ruff and mypy, then every test suite (unit, integration on moto, template, local cloud)
make test
