#!/usr/bin/env bash
# Runs a command with a local S3 API server (moto, from PyPI) on 127.0.0.1, so tests/s3.rs exercises
# sluice's s3:// path for real, and with SLUICE_TEST_PYTHON pointing at a Python that has the packages the
# round-trip tests read sluice's outputs with (tokenizers, webdataset). If either cannot be set up, the
# command still runs and those tests print SKIPPED (and fail under CI=true). Usage: tests/with-s3.sh CMD …
set -u
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="$here/.venv-test"
python="${PYTHON:-python3}"

setup() {
  if [ ! -x "$venv/bin/moto_server" ]; then
    "$python" -m venv "$venv" >/dev/null 2>&1 || return 1
    "$venv/bin/pip" install -q "moto[server]==5.*" >/dev/null 2>&1 || return 1
  fi
  port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])') || return 1
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 1 50); do
    "$venv/bin/python" - "$port" <<'PY' 2>/dev/null && return 0
import sys, boto3
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.create_bucket(Bucket="sluice-test")
PY
    sleep 0.2
  done
  return 1
}

python_packages() {
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv" >/dev/null 2>&1 || return 1
  "$venv/bin/python" -c 'import tokenizers, webdataset' 2>/dev/null && return 0
  "$venv/bin/pip" install -q "tokenizers==0.22.*" "webdataset==1.*" >/dev/null 2>&1
}

if python_packages; then
  export SLUICE_TEST_PYTHON="$venv/bin/python"
  echo "with-s3: round-trip tests use $SLUICE_TEST_PYTHON (tokenizers, webdataset)"
else
  echo "with-s3: could not install tokenizers/webdataset into $venv; Python round-trip tests will be skipped"
fi

server=""
if setup; then
  export SLUICE_TEST_S3=1 AWS_ENDPOINT="http://127.0.0.1:$port" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
         AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  echo "with-s3: moto S3 server on 127.0.0.1:$port (bucket sluice-test)"
else
  echo "with-s3: no local S3 server (python3 venv or PyPI unavailable); S3 tests will be skipped"
fi
"$@"
status=$?
[ -n "$server" ] && kill "$server" 2>/dev/null
exit $status
