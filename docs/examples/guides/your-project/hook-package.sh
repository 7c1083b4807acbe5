make deploy CONTEXT='-c hookPackages=examples/hook_package'   # or "hookPackages" in cdk.json
make run CONTEXT='-c hookPackages=examples/hook_package'      # the same, on the local cloud
.venv/bin/actionsctl hooks list                               # shop_send_receipt, shop_reorder_stock...
.venv/bin/actionsctl schedule now shop_send_receipt --args '{"order": "o-7", "cents": 123456}'
