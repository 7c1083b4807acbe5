aws sts get-caller-identity                    # the account you are about to use
npx cdk bootstrap aws://123456789012/us-east-1 # once per account and region
