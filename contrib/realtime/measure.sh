#!/usr/bin/env bash
# Measures pjprov with N phones in PostgreSQL (docs/realtime.md, "Scale"): time to the first file, time
# from an UPDATE of one callerid to served (polling, then LISTEN/NOTIFY), memory. Starts a throwaway
# cluster (Debian's postgresql package) in a temporary directory; run from the repository, after
# `cargo build --release -p pjprov`. Usage: contrib/realtime/measure.sh [PHONES] [PJPROV_BINARY]
set -euo pipefail
phones=${1:-100000}
bin=${2:-${CARGO_TARGET_DIR:-target}/release/pjprov}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
root=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; $as "$pgbin/pg_ctl" -D "$root/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$root"' EXIT
as=""
if [ "$(id -u)" -eq 0 ]; then chown 65534:65534 "$root"; as="setpriv --reuid=65534 --regid=65534 --clear-groups --"; fi
port=$((20000 + RANDOM % 20000))
$as mkdir "$root/sock"
$as "$pgbin/initdb" -D "$root/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
$as "$pgbin/pg_ctl" -D "$root/data" -l "$root/pg.log" -w -o "-c listen_addresses=127.0.0.1 -p $port -k $root/sock" start >/dev/null
psql() { command psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$root/sock" -p "$port" -U postgres "$@"; }
psql -d postgres -c "CREATE DATABASE asterisk"
psql -d asterisk <<SQL
CREATE TYPE pjsip_auth_type_values_v2 AS ENUM ('md5','userpass','google_oauth');
CREATE TYPE pjsip_transport_protocol_values_v2 AS ENUM ('udp','tcp','tls','ws','wss','flow');
CREATE TABLE ps_endpoints (id VARCHAR(255) NOT NULL UNIQUE, transport VARCHAR(40), aors VARCHAR(2048),
  auth VARCHAR(255), context VARCHAR(40), disallow VARCHAR(200), allow VARCHAR(200), callerid VARCHAR(40));
CREATE TABLE ps_auths (id VARCHAR(255) NOT NULL UNIQUE, auth_type pjsip_auth_type_values_v2,
  nonce_lifetime INTEGER, md5_cred VARCHAR(40), password VARCHAR(80), realm VARCHAR(255), username VARCHAR(40));
CREATE TABLE ps_transports (id VARCHAR(40) NOT NULL UNIQUE, bind VARCHAR(40),
  protocol pjsip_transport_protocol_values_v2, external_signaling_port INTEGER);
CREATE TABLE ps_phoneprovs (id VARCHAR(255) NOT NULL UNIQUE, endpoint VARCHAR(255),
  "MAC" VARCHAR(17), "PROFILE" VARCHAR(80), "LINE" INTEGER, "LINEKEYS" INTEGER);
INSERT INTO ps_transports VALUES ('udp', '0.0.0.0:5060', 'udp', NULL);
INSERT INTO ps_auths (id, auth_type, username, password)
  SELECT 'u' || i, 'userpass', 'user' || i, md5(i::text) FROM generate_series(1, $phones) i;
INSERT INTO ps_endpoints (id, transport, aors, auth, callerid, context, allow)
  SELECT 'u' || i, 'udp', 'u' || i, 'u' || i, '"User ' || i || '" <' || i || '>', 'phones', 'ulaw;alaw'
  FROM generate_series(1, $phones) i;
INSERT INTO ps_phoneprovs (id, endpoint, "MAC", "PROFILE", "LINE")
  SELECT 'u' || i || '-phone', 'u' || i, lpad(to_hex(i), 12, '0'), 'basic', 1 FROM generate_series(1, $phones) i;
ANALYZE;
SQL
etc=$root/etc; data=$root/data-pjprov
mkdir -p "$etc" "$data/phoneprov"
printf '[res_pjsip]\nendpoint = realtime,ps_endpoints\nauth = realtime,ps_auths\ntransport = realtime,ps_transports\n[res_pjsip_phoneprov_provider]\nphoneprov = realtime,ps_phoneprovs\n' >"$etc/sorcery.conf"
printf '[settings]\nps_endpoints => pgsql,asterisk\nps_auths => pgsql,asterisk\nps_transports => pgsql,asterisk\nps_phoneprovs => pgsql,asterisk\n' >"$etc/extconfig.conf"
printf '[general]\ndbsock = %s\ndbport = %s\ndbname = asterisk\ndbuser = postgres\ndbpass =\n' "$root/sock" "$port" >"$etc/res_pgsql.conf"
: >"$etc/pjsip.conf"
printf '[basic]\n${MAC}.cfg => basic.cfg\n' >"$etc/phoneprov.conf"
printf '[realtime]\npoll = 2\n' >"$etc/pjprov.conf"
printf 'user=${USERNAME} secret=${SECRET} cid=${CALLERID} name=${DISPLAY_NAME} port=${SERVER_PORT}\n' >"$data/phoneprov/basic.cfg"
http=$((port + 1)); admin=$((port + 2))
url=http://127.0.0.1:$http/phoneprov/000000000001.cfg
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
wait_for() { # URL TEXT: polls every 10 ms, at most 120 s
    local end=$(( $(date +%s) + 120 ))
    until curl -s "$1" 2>/dev/null | grep -q "$2"; do
        [ "$(date +%s)" -lt "$end" ] || { echo "timed out waiting for $2" >&2; exit 1; }
        sleep 0.01
    done
}
echo "phones: $phones (PostgreSQL $(psql -d asterisk -c 'SHOW server_version'))"
t0=$(now)
"$bin" serve --config-dir "$etc" --data-dir "$data" --listen "127.0.0.1:$http" --admin-listen "127.0.0.1:$admin" \
    --state-dir "$root/state" 2>"$root/pjprov.log" &
pid=$!
wait_for "$url" "cid=1 "
echo "start to first file served: $(since "$t0") s"
rss() { grep -E "^(VmRSS|VmHWM)" /proc/$pid/status | tr -s ' ' | tr '\n' ' '; echo; }
echo "memory after start: $(rss)"
detector=$(psql -d asterisk -c '\timing on' -c "SELECT (SELECT count(*)::text || ':' || coalesce(sum(xmin::text::bigint), 0)::text FROM ps_endpoints)" | grep -o 'Time: .*')
echo "change detector, ps_endpoints alone: $detector"
sleep 3
t0=$(now)
psql -d asterisk -c "UPDATE ps_endpoints SET callerid = '\"Poll\" <7001>' WHERE id = 'u1'"
wait_for "$url" "cid=7001 "
echo "UPDATE to served, polling every 2 s: $(since "$t0") s"
psql -d asterisk -f contrib/realtime/pjprov-notify.sql >/dev/null
sleep 3
t0=$(now)
psql -d asterisk -c "UPDATE ps_endpoints SET callerid = '\"Notify\" <7002>' WHERE id = 'u1'"
wait_for "$url" "cid=7002 "
echo "UPDATE to served, LISTEN/NOTIFY: $(since "$t0") s"
echo "memory after three reloads: $(rss)"
for i in $(seq 1 "${RELOADS:-0}"); do # RELOADS=N: N more reloads (SIGHUP), memory after each
    n=$(grep -c "configuration loaded" "$root/pjprov.log")
    kill -HUP "$pid"
    until [ "$(grep -c "configuration loaded" "$root/pjprov.log")" -gt "$n" ]; do sleep 0.05; done
    sleep 0.5
    echo "memory after reload $((i + 3)): $(rss)"
done
grep -E "configuration loaded|read the realtime tables" "$root/pjprov.log" | sed -E 's/^.*(configuration loaded|read the realtime tables)/\1/'
