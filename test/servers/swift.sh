#!/usr/bin/env bash
# A throwaway one-replica OpenStack Swift with the s3api middleware on 127.0.0.1, for testing the S3
# store against a server that checks SigV4 signatures for real (s3rver does not).
#
#   swift.sh [start] [PORT] [DIR]   start; PORT defaults to 8080, DIR to a new mktemp dir.
#                                   Prints the endpoint and waits until it answers.
#   swift.sh stop DIR               stop the daemons started with that DIR.
#
# S3 credentials: access key test:tester, secret key testing, region us-east-1, path-style.
# Everything (config, rings, data, logs, PIDs) lives under DIR; /etc/swift is never read or edited.
# Installs Debian's swift packages and memcached with apt-get when missing (needs root).
set -euo pipefail

cmd=start
case "${1:-}" in
  start | stop) cmd=$1; shift ;;
esac

stop() {
  local dir=$1 pids=() pid
  [[ -f $dir/pids ]] || { echo "swift.sh: no $dir/pids: nothing to stop" >&2; return 0; }
  mapfile -t pids <"$dir/pids"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -f "$dir/pids"
}

if [[ $cmd == stop ]]; then
  [[ $# -ge 1 ]] || { echo "usage: $0 stop DIR" >&2; exit 2; }
  stop "$1"
  exit 0
fi

port=${1:-8080}
dir=${2:-$(mktemp -d -t irs-swift.XXXXXX)}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

install() {
  local bins=(swift-proxy-server swift-account-server swift-container-server swift-object-server swift-ring-builder memcached)
  local missing=0 b
  for b in "${bins[@]}"; do command -v "$b" >/dev/null || missing=1; done
  ((missing)) || return 0
  [[ $(id -u) == 0 ]] || { echo "swift.sh: swift is not installed and installing it needs root" >&2; exit 1; }
  local pkgs=(swift swift-proxy swift-account swift-container swift-object memcached)
  echo "swift.sh: installing ${pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Keep apt from starting the packages' system services (memcached on 11211, swift units).
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  local rc=0
  apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2 ||
    { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2; } || rc=$?
  ((made_policy)) && rm -f "$policy"
  ((rc == 0)) || { echo "swift.sh: apt-get install failed" >&2; exit 1; }
}

free_ports() { # N free TCP ports on 127.0.0.1
  /usr/bin/python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(('127.0.0.1', 0))
print(' '.join(str(s.getsockname()[1]) for s in socks))
EOF
}

install

if [[ -f $dir/pids ]]; then
  echo "swift.sh: $dir/pids exists: stopping the previous servers first" >&2
  stop "$dir"
fi

etc=$dir/etc srv=$dir/srv log=$dir/log
mkdir -p "$etc" "$srv/d1" "$log"
user=$(id -un)

# Swift keeps object metadata in extended attributes.
if ! /usr/bin/python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.irs", b"1")' "$srv/d1" 2>/dev/null; then
  echo "swift.sh: $srv does not support user xattrs, which Swift needs; pass a DIR on ext4/xfs/btrfs" >&2
  exit 1
fi

read -r acc_port con_port obj_port mc_port <<<"$(free_ports 4)"

cat >"$etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = irs-test
swift_hash_path_prefix = irs-test

[storage-policy:0]
name = Policy-0
default = yes
EOF

backend_conf() { # kind port
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
workers = 0
user = $user
swift_dir = $etc
devices = $srv
mount_check = false
disable_fallocate = true
log_level = WARNING

[pipeline:main]
pipeline = $1-server

[app:$1-server]
use = egg:swift#$1
EOF
}
backend_conf account "$acc_port" >"$etc/account-server.conf"
backend_conf container "$con_port" >"$etc/container-server.conf"
backend_conf object "$obj_port" >"$etc/object-server.conf"

cat >"$etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $port
workers = 0
user = $user
swift_dir = $etc
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$mc_port

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
EOF

# One-replica rings: what `swift-ring-builder X.builder create 6 1 1; add r1z1-127.0.0.1:PORT/d1 100;
# rebalance` does for each of the three, in one Python process instead of nine (saves about 3 s).
/usr/bin/python3 - "$etc" account:"$acc_port" container:"$con_port" object:"$obj_port" <<'EOF'
import sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for arg in sys.argv[2:]:
    kind, port = arg.split(':')
    builder = RingBuilder(6, 1, 1)
    builder.add_dev({'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': int(port), 'device': 'd1', 'weight': 100,
                     'replication_ip': '127.0.0.1', 'replication_port': int(port), 'meta': ''})
    builder.rebalance()
    builder.get_ring().save(f'{etc}/{kind}.ring.gz')
    builder.save(f'{etc}/{kind}.builder')
EOF

# The installed swift-*-server scripts read /etc/swift/swift.conf; this launcher points Swift at $etc first.
cat >"$etc/run.py" <<'EOF'
import sys
from swift.common.utils import set_swift_dir
set_swift_dir(sys.argv[1])
from swift.common.wsgi import run_wsgi
kind, conf = sys.argv[2], sys.argv[3]
kwargs = {}
if kind == 'object-server':
    from swift.obj import server
    kwargs['global_conf_callback'] = server.global_conf_callback
sys.exit(run_wsgi(conf, kind, verbose=True, **kwargs))
EOF

: >"$dir/pids"
# stdio goes to files so a caller reading this script's output is not held open by the daemons.
memcached -l 127.0.0.1 -p "$mc_port" -U 0 -m 64 -u "$user" </dev/null >"$log/memcached.log" 2>&1 &
echo $! >>"$dir/pids"
for kind in account container object proxy; do
  /usr/bin/python3 "$etc/run.py" "$etc" "$kind-server" "$etc/$kind-server.conf" </dev/null >"$log/$kind.log" 2>&1 &
  echo $! >>"$dir/pids"
done

endpoint=http://127.0.0.1:$port
deadline=$((SECONDS + 60))
until token=$(curl -fsS -o /dev/null -D - -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "$endpoint/auth/v1.0" 2>/dev/null |
  tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p') && [[ -n $token ]] &&
  curl -fsS -o /dev/null -I -H "X-Auth-Token: $token" "$endpoint/v1/AUTH_test" 2>/dev/null; do
  while read -r pid; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "swift.sh: a server exited during start-up; logs:" >&2
      tail -n 20 "$log"/*.log >&2
      stop "$dir"
      exit 1
    fi
  done <"$dir/pids"
  if ((SECONDS > deadline)); then
    echo "swift.sh: $endpoint did not answer in 60 s; logs:" >&2
    tail -n 20 "$log"/*.log >&2
    stop "$dir"
    exit 1
  fi
  sleep 0.2
done

# A request with a bad S3 signature must get an S3 error document from s3api.
if ! curl -sS -H "Date: $(date -u '+%a, %d %b %Y %H:%M:%S GMT')" -H 'Authorization: AWS test:tester:bad' "$endpoint/" |
  grep -q '<Code>SignatureDoesNotMatch</Code>'; then
  echo "swift.sh: $endpoint answers but not as S3 (s3api missing?)" >&2
  stop "$dir"
  exit 1
fi

echo "swift.sh: Swift + s3api up; access key test:tester, secret testing, region us-east-1, path-style"
echo "swift.sh: stop with: bash $0 stop $dir"
echo "IRS_TEST_S3_ENDPOINT=$endpoint"
