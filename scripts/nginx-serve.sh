#!/usr/bin/env bash
# Starts a private nginx (Debian's nginx-light) serving DIR on 127.0.0.1:PORT, with its own
# prefix, config, logs and pid file under STATE_DIR, so that it needs no system paths or root.
# The access log (STATE_DIR/access.log) has one line per request:
#   METHOD URI STATUS BODY_BYTES "RANGE"
# Usage: nginx-serve.sh start DIR PORT STATE_DIR | stop STATE_DIR | free-port
set -euo pipefail
NGINX=${NGINX:-/usr/sbin/nginx}
case "${1:-}" in
start)
    root=$(realpath "$2"); port=$3; state=$(mkdir -p "$4" && realpath "$4")
    mkdir -p "$state/tmp"
    cat > "$state/nginx.conf" <<CONF
worker_processes 1;
pid $state/nginx.pid;
error_log $state/error.log;
events { worker_connections 256; }
http {
    log_format ss '\$request_method \$uri \$status \$body_bytes_sent "\$http_range"';
    access_log $state/access.log ss;
    client_body_temp_path $state/tmp/body;
    proxy_temp_path $state/tmp/proxy;
    fastcgi_temp_path $state/tmp/fastcgi;
    uwsgi_temp_path $state/tmp/uwsgi;
    scgi_temp_path $state/tmp/scgi;
    sendfile on;
    server {
        listen 127.0.0.1:$port;
        root $root;
    }
}
CONF
    [ "$(id -u)" = 0 ] && sed -i '1i user root;' "$state/nginx.conf"
    "$NGINX" -p "$state" -c "$state/nginx.conf" -e "$state/error.log"
    for _ in $(seq 50); do
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && exit 0
        sleep 0.1
    done
    echo "nginx did not start on port $port; see $state/error.log" >&2; exit 1 ;;
free-port) # prints a loopback port nobody listens on
    for _ in $(seq 200); do
        port=$((20000 + RANDOM % 40000))
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || { echo "$port"; exit 0; }
    done
    exit 1 ;;
stop)
    state=$2
    [ -f "$state/nginx.pid" ] && kill "$(cat "$state/nginx.pid")" 2>/dev/null || true ;;
*)
    echo "usage: $0 start DIR PORT STATE_DIR | stop STATE_DIR | free-port" >&2; exit 2 ;;
esac
