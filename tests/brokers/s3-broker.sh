#!/usr/bin/env bash
# A Tansu broker on its S3 engine against a local S3 server (moto), for the trial's tests:
#   s3-broker.sh start DIR PYTHON   moto and Tansu on free ports; prints the bootstrap
#   s3-broker.sh restart DIR        the broker replaced: stopped, a new process on the same bucket
#   s3-broker.sh stop DIR           both stopped
# DIR keeps the ports, pids and logs. The restart is what `trial --restart-cmd` runs: a
# stateless broker serves what the old one acknowledged because the bucket kept it.
set -euo pipefail
cmd=$1
dir=$2

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on $1" >&2
  return 1
}

start_broker() {
  # shellcheck source=/dev/null
  source "$dir/env"
  AWS_ENDPOINT="http://127.0.0.1:$S3_PORT" AWS_ACCESS_KEY_ID=trial AWS_SECRET_ACCESS_KEY=trial \
    AWS_DEFAULT_REGION=us-east-1 AWS_ALLOW_HTTP=true \
    nohup tansu broker \
    --listener-url "tcp://127.0.0.1:$BROKER_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$BROKER_PORT" \
    --storage-engine "s3://trial/" >>"$dir/tansu.log" 2>&1 &
  echo $! >"$dir/tansu.pid"
  wait_port "$BROKER_PORT"
}

stop_pid() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid
  pid=$(cat "$file")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  # Only if it outlived the wait: a pid that already exited may belong to another process now.
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$file"
}

case "$cmd" in
  start)
    PYTHON=$3
    mkdir -p "$dir"
    S3_PORT=$(free_port)
    BROKER_PORT=$(free_port)
    printf 'S3_PORT=%s\nBROKER_PORT=%s\n' "$S3_PORT" "$BROKER_PORT" >"$dir/env"
    nohup "$PYTHON" -m moto.server -p "$S3_PORT" >"$dir/moto.log" 2>&1 &
    echo $! >"$dir/moto.pid"
    wait_port "$S3_PORT"
    curl -sf -X PUT "http://127.0.0.1:$S3_PORT/trial" >/dev/null
    start_broker
    echo "127.0.0.1:$BROKER_PORT"
    ;;
  restart)
    stop_pid "$dir/tansu.pid"
    start_broker
    ;;
  stop)
    stop_pid "$dir/tansu.pid"
    stop_pid "$dir/moto.pid"
    ;;
  *)
    echo "usage: $0 start DIR PYTHON | restart DIR | stop DIR" >&2
    exit 2
    ;;
esac
