github=$(curl -s https://api.github.com/meta | jq -c .hooks)
stripe=$(curl -s https://stripe.com/files/ips/ips_webhooks.txt \
         | jq -Rsc '[splits("\\s+") | select(length > 0)]')
npx cdk deploy -c stage=prod \
  -c wafExemptRanges="$(jq -cn --argjson a "$github" --argjson b "$stripe" '$a + $b')"
