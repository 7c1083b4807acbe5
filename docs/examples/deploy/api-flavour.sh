make deploy CONTEXT='-c apiFlavour=http'            # an HTTP API instead of the REST API
make run CONTEXT='-c apiFlavour=http'               # the same, on the local cloud
