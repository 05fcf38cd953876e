#!/bin/sh
# Submits a 16-shard deid run as an AWS Batch array job, and a merge job
# that starts when every child of the array has succeeded.
#
#   aws batch register-job-definition --cli-input-json file://job-definition.json
#   aws batch register-job-definition --cli-input-json file://merge-job-definition.json
#   JOB_QUEUE=deid-queue ./submit.sh
#
# The array size must equal the 16 in --shard=AWS_BATCH_JOB_ARRAY_INDEX/16
# (job-definition.json). AWS Batch sets AWS_BATCH_JOB_ARRAY_INDEX (0..15) in
# each child, and deid reads it.
set -eu
: "${JOB_QUEUE:?set JOB_QUEUE to the job queue}"
SHARDS=16

array=$(aws batch submit-job \
  --job-name deid-shards \
  --job-queue "$JOB_QUEUE" \
  --job-definition deid-shard \
  --array-properties "size=$SHARDS" \
  --query jobId --output text)
echo "array job $array: $SHARDS shards"

# A job that depends on an array job waits for all of its children.
merge=$(aws batch submit-job \
  --job-name deid-merge \
  --job-queue "$JOB_QUEUE" \
  --job-definition deid-merge \
  --depends-on "jobId=$array" \
  --query jobId --output text)
echo "merge job $merge: runs when every shard has succeeded"
