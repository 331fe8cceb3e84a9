#!/usr/bin/env bash
# jetty-dynamic-sni demo: a stock Jetty 12.1 home with the dynamic-sni module serving N demo
# tenants over HTTPS and HTTP/2, each with its own certificate picked at handshake time from
# PostgreSQL (through Redis). Nothing is loaded at start.
#
#   ./demo.sh [--tenants N] [--port PORT] [--rsa K] [--wars W] [--engine E] [--acme] [--rebuild] [--smoke] [--help]
#
# PostgreSQL and Redis: DYNSNI_JDBC_URL / DYNSNI_REDIS_URL when set (the demo then uses the schema
# ${DYNSNI_JDBC_SCHEMA:-dynsni_demo} and the key prefix ${DYNSNI_REDIS_KEY_PREFIX:-dynsni-demo:});
# otherwise throw-away ones are started here (initdb/pg_ctl and redis-server on free ports) and
# stopped on exit. Ctrl-C stops everything this script started.
set -euo pipefail

TENANTS=1000
PORT=8443
RSA=10
WARS=0
ENGINE=auto
REBUILD=false
SMOKE=false
ACME=false
DOMAIN=demo.test

usage()
{
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    cat <<EOF

Options:
  --tenants N   number of demo tenants t1..tN.$DOMAIN (default $TENANTS)
  --port PORT   HTTPS port (default $PORT)
  --rsa K       tenants t1..tK also get an RSA certificate (default $RSA)
  --wars W      tenants t1..tW get a WAR of their own, bound to their name by virtualHosts
                (docs/hosting.md); the shared WAR answers the others (default $WARS)
  --engine E    TLS engine: conscrypt (BoringSSL, the dynamic-sni-conscrypt module) or jsse
                (the JDK's); default: conscrypt where its native library loads, else jsse
  --acme        also start a local ACME CA (Debian's pebble) and show a new tenant, new.$DOMAIN,
                getting its certificate on its first request (tls-alpn-01 on the HTTPS port)
  --rebuild     rebuild the Jetty home and the WAR even if they exist
  --smoke       run the printed client commands, then stop everything and exit
  --help        this text
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --tenants) TENANTS="${2:?--tenants needs a number}"; shift 2 ;;
        --tenants=*) TENANTS="${1#*=}"; shift ;;
        --port) PORT="${2:?--port needs a number}"; shift 2 ;;
        --port=*) PORT="${1#*=}"; shift ;;
        --rsa) RSA="${2:?--rsa needs a number}"; shift 2 ;;
        --rsa=*) RSA="${1#*=}"; shift ;;
        --wars) WARS="${2:?--wars needs a number}"; shift 2 ;;
        --wars=*) WARS="${1#*=}"; shift ;;
        --engine) ENGINE="${2:?--engine needs jsse or conscrypt}"; shift 2 ;;
        --engine=*) ENGINE="${1#*=}"; shift ;;
        --acme) ACME=true; shift ;;
        --rebuild) REBUILD=true; shift ;;
        --smoke) SMOKE=true; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
for n in "$TENANTS" "$PORT" "$RSA" "$WARS"; do
    case "$n" in
        ''|*[!0-9]*) echo "demo.sh: '$n' is not a number" >&2; exit 2 ;;
    esac
done
case "$ENGINE" in
    auto|jsse|conscrypt) ;;
    *) echo "demo.sh: --engine must be jsse or conscrypt, not '$ENGINE'" >&2; exit 2 ;;
esac
[ "$TENANTS" -ge 1 ] || { echo "demo.sh: --tenants must be at least 1" >&2; exit 2; }
[ "$RSA" -le "$TENANTS" ] || RSA="$TENANTS"
[ "$WARS" -lt "$TENANTS" ] || { echo "demo.sh: --wars must be less than --tenants ($TENANTS): the shared WAR answers the other tenants" >&2; exit 2; }

CALLER_DIR="$PWD"
ROOT="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
DATA="demo-data"
HOME_DIR="jetty-home-overlay/target/jetty-home"
WAR="demo-webapp/target/demo-webapp.war"
PKI="$DATA/pki-$TENANTS"
BASE="$DATA/base"
LOG="$DATA/jetty.log"
T0=$(date +%s.%N)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- cleanup: everything started here is stopped on exit, Ctrl-C included

JETTY_PID=""
REDIS_PID=""
PEBBLE_PID=""
PEBBLE_DNS_PID=""
PG_DIR=""
PG_AS=()
cleanup()
{
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$JETTY_PID" ] && kill -0 "$JETTY_PID" 2>/dev/null; then
        say "Stopping Jetty (pid $JETTY_PID)"
        kill -TERM "$JETTY_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$JETTY_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$JETTY_PID" 2>/dev/null || true
        wait "$JETTY_PID" 2>/dev/null || true
    fi
    for pid in "$PEBBLE_PID" "$PEBBLE_DNS_PID"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [ -n "$REDIS_PID" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
        say "Stopping Redis (pid $REDIS_PID)"
        kill -TERM "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    if [ -n "$PG_DIR" ]; then
        if [ -f "$PG_DIR/data/postmaster.pid" ]; then
            say "Stopping PostgreSQL"
            "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$PG_DIR"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port()
{
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "no free TCP port found"
}

# ---- prerequisites and build

command -v java >/dev/null || die "java (17 or later) is not on the PATH"
command -v curl >/dev/null || die "curl is needed to check the server (apt-get install curl)"
if [ "$WARS" -gt 0 ] && ! command -v zip >/dev/null && ! command -v jar >/dev/null; then
    die "--wars needs zip or the JDK's jar tool to build the tenant WARs (apt-get install zip)"
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "port $PORT is already in use: choose another with --port"
fi

if $REBUILD || [ ! -f "$HOME_DIR/start.jar" ] || [ ! -x "$HOME_DIR/bin/dynsni" ] || [ ! -f "$WAR" ]; then
    command -v mvn >/dev/null || die "Maven (mvn) is needed to build the Jetty home and the WAR"
    say "Building the Jetty home with the dynamic-sni module and the demo WAR (mvn package, a few minutes the first time)"
    mvn -B -q -DskipTests -pl demo-webapp,jetty-home-overlay -am package
fi
DYNSNI="$HOME_DIR/bin/dynsni"

# ---- PostgreSQL and Redis

mkdir -p "$DATA"
if [ -n "${DYNSNI_JDBC_URL:-}" ]; then
    JDBC_URL="$DYNSNI_JDBC_URL"
    SCHEMA="${DYNSNI_JDBC_SCHEMA:-dynsni_demo}"
    say "PostgreSQL from DYNSNI_JDBC_URL (schema $SCHEMA)"
else
    PG_BIN=""
    if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
        PG_BIN="$(dirname "$(command -v pg_ctl)")"
    else
        for dir in /usr/lib/postgresql/*/bin /usr/local/pgsql/bin /opt/homebrew/bin /usr/local/bin; do
            if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then PG_BIN="$dir"; fi
        done
    fi
    [ -n "$PG_BIN" ] || die "no PostgreSQL server binaries (initdb, pg_ctl): install them (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) or set DYNSNI_JDBC_URL=jdbc:postgresql://host:port/db?user=...&password=..."
    PG_PORT=$(free_port)
    PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/dynsni-demo-pg.XXXXXX")"
    if [ "$(id -u)" = 0 ]; then
        # PostgreSQL refuses to run as root: run it as the postgres (or nobody) account.
        PG_USER=postgres
        id "$PG_USER" >/dev/null 2>&1 || PG_USER=nobody
        chown "$PG_USER" "$PG_DIR"
        PG_AS=(runuser -u "$PG_USER" --)
    fi
    say "Starting a throw-away PostgreSQL on 127.0.0.1:$PG_PORT ($PG_BIN)"
    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
        || { cat "$PG_DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
    JDBC_URL="jdbc:postgresql://127.0.0.1:$PG_PORT/postgres?user=postgres"
    SCHEMA=dynsni
fi

if [ -n "${DYNSNI_REDIS_URL:-}" ]; then
    REDIS_URL="$DYNSNI_REDIS_URL"
    KEY_PREFIX="${DYNSNI_REDIS_KEY_PREFIX:-dynsni-demo:}"
    say "Redis from DYNSNI_REDIS_URL (key prefix $KEY_PREFIX)"
else
    command -v redis-server >/dev/null || die "no redis-server: install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set DYNSNI_REDIS_URL=redis://host:port"
    for attempt in 1 2 3; do
        REDIS_PORT=$(free_port)
        say "Starting a throw-away Redis on 127.0.0.1:$REDIS_PORT"
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning >"$DATA/redis.log" 2>&1 &
        REDIS_PID=$!
        for _ in $(seq 1 50); do
            kill -0 "$REDIS_PID" 2>/dev/null || break
            (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null && break
            sleep 0.1
        done
        kill -0 "$REDIS_PID" 2>/dev/null && break
        # the port was taken between choosing and binding it: try another one
        REDIS_PID=""
        [ "$attempt" = 3 ] && die "redis-server did not start: $(tail -n 3 "$DATA/redis.log")"
    done
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
    KEY_PREFIX="dynsni:"
fi
export DYNSNI_JDBC_URL="$JDBC_URL" DYNSNI_JDBC_SCHEMA="$SCHEMA" DYNSNI_REDIS_URL="$REDIS_URL" DYNSNI_REDIS_KEY_PREFIX="$KEY_PREFIX"

# ---- demo PKI (kept in demo-data/ between runs) and import

if [ ! -f "$PKI/ca.pem" ] || [ ! -f "$PKI/certs/t$TENANTS.$DOMAIN.crt" ] || [ ! -f "$PKI/.complete" ]; then
    say "Generating a demo CA and $TENANTS tenant certificates in $PKI"
    rm -rf "$PKI"
    T=$(date +%s.%N)
    "$DYNSNI" gen-demo --tenants "$TENANTS" --rsa "$RSA" --domain "$DOMAIN" --out "$PKI"
    touch "$PKI/.complete"
    GEN_TIME=$(elapsed "$T")
else
    say "Reusing the demo certificates in $PKI"
    GEN_TIME=0
fi

say "Importing the certificates into PostgreSQL (schema $SCHEMA)"
T=$(date +%s.%N)
"$DYNSNI" init-db
"$DYNSNI" import-dir "$PKI/certs"
IMPORT_TIME=$(elapsed "$T")

# ---- Jetty base: stock modules + dynamic-sni, the WAR as ROOT

# The fastest engine by default: Conscrypt (shipped with the overlay); where its native library cannot
# load, the node itself falls back to JSSE with one warning, and the line below says which one runs.
if [ "$ENGINE" = jsse ]; then MODULE=dynamic-sni; else MODULE=dynamic-sni-conscrypt; fi
MODULES="$MODULE,https,http2,ee10-deploy"
say "Creating the Jetty base $BASE (--add-modules=$MODULES)"
rm -rf "$BASE"
mkdir -p "$BASE"
HOME_ABS="$ROOT/$HOME_DIR"
(cd "$BASE" && java -jar "$HOME_ABS/start.jar" --add-modules="$MODULES" >/dev/null 2>&1) \
    || die "start.jar --add-modules failed (see: cd $BASE && java -jar $HOME_ABS/start.jar --add-modules=$MODULES)"
cat >>"$BASE/start.d/dynamic-sni.ini" <<EOF

## Written by demo.sh
jetty.dynamicSni.jdbc.url=$JDBC_URL
jetty.dynamicSni.jdbc.schema=$SCHEMA
jetty.dynamicSni.redis.address=$REDIS_URL
jetty.dynamicSni.redis.keyPrefix=$KEY_PREFIX
jetty.dynamicSni.default.certificate=$ROOT/$PKI/default.crt
jetty.dynamicSni.default.key=$ROOT/$PKI/default.key
EOF
printf '\n## Written by demo.sh\njetty.ssl.port=%s\n' "$PORT" >>"$BASE/start.d/ssl.ini"

# ---- --acme: a local ACME CA (pebble), its validator pointed at this Jetty's HTTPS port (tls-alpn-01)

if $ACME; then
    for tool in pebble pebble-challtestsrv openssl; do
        command -v "$tool" >/dev/null || die "--acme needs $tool: install it (Debian/Ubuntu: apt-get install pebble openssl)"
    done
    PEBBLE="$DATA/pebble"
    rm -rf "$PEBBLE"
    mkdir -p "$PEBBLE"
    PEBBLE_PORT=$(free_port); PEBBLE_MGMT=$(free_port); PEBBLE_DNS=$(free_port); PEBBLE_DNS_MGMT=$(free_port); PEBBLE_HTTP=$(free_port)
    say "Starting a local ACME CA (pebble) on https://127.0.0.1:$PEBBLE_PORT/dir, validating on port $PORT"
    # pebble's own HTTPS: a throw-away CA and a certificate for 127.0.0.1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$PEBBLE/ca.key" -out "$PEBBLE/ca.pem" -days 2 \
        -subj "/CN=demo pebble API CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$PEBBLE/server.key" -out "$PEBBLE/server.csr" -subj /CN=127.0.0.1 >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$PEBBLE/server.ext"
    openssl x509 -req -in "$PEBBLE/server.csr" -CA "$PEBBLE/ca.pem" -CAkey "$PEBBLE/ca.key" -CAcreateserial -days 2 \
        -extfile "$PEBBLE/server.ext" -out "$PEBBLE/server.pem" >/dev/null 2>&1
    cat >"$PEBBLE/config.json" <<EOF
{ "pebble": { "listenAddress": "127.0.0.1:$PEBBLE_PORT", "managementListenAddress": "127.0.0.1:$PEBBLE_MGMT",
  "certificate": "$ROOT/$PEBBLE/server.pem", "privateKey": "$ROOT/$PEBBLE/server.key",
  "httpPort": $PEBBLE_HTTP, "tlsPort": $PORT, "ocspResponderURL": "", "externalAccountBindingRequired": false } }
EOF
    # every name resolves to 127.0.0.1 for the CA's validator
    pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$PEBBLE_DNS" -http01 "" -https01 "" -tlsalpn01 "" \
        -management "127.0.0.1:$PEBBLE_DNS_MGMT" >"$PEBBLE/dns.log" 2>&1 &
    PEBBLE_DNS_PID=$!
    PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$PEBBLE/config.json" -dnsserver "127.0.0.1:$PEBBLE_DNS" >"$PEBBLE/pebble.log" 2>&1 &
    PEBBLE_PID=$!
    for _ in $(seq 1 100); do
        curl -sf -o /dev/null --cacert "$PEBBLE/ca.pem" "https://127.0.0.1:$PEBBLE_PORT/dir" && break
        kill -0 "$PEBBLE_PID" 2>/dev/null || die "pebble exited: see $PEBBLE/pebble.log"
        sleep 0.1
    done
    cat >>"$BASE/start.d/dynamic-sni.ini" <<EOF
jetty.dynamicSni.acme.directoryUrl=https://127.0.0.1:$PEBBLE_PORT/dir
jetty.dynamicSni.acme.caFile=$ROOT/$PEBBLE/ca.pem
jetty.dynamicSni.acme.email=demo@$DOMAIN
EOF
fi
cp "$WAR" "$BASE/webapps/ROOT.war"

# ---- --wars W: one WAR per tenant t1..tW, deployed by a context XML with virtualHosts (docs/hosting.md)

war_of()
{
    # war_of NAME: a WAR with a static page of its own, under $BASE/tenants/
    local name="$1" dir="$BASE/tenants/.build-$1" hue
    hue=$(( (${1#t} * 47) % 360 ))
    mkdir -p "$dir"
    cat >"$dir/index.html" <<HTML
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>$name.$DOMAIN</title></head>
<body style="font-family: sans-serif; background: hsl($hue, 60%, 92%)">
<h1>$name.$DOMAIN has its own WAR</h1>
<p>This page is <code>tenants/$name.war</code>, deployed by <code>webapps/$name.xml</code> for the
virtual host <code>$name.$DOMAIN</code>. Tenants without a WAR of their own get the shared
<code>ROOT.war</code>.</p>
</body></html>
HTML
    if command -v zip >/dev/null; then
        (cd "$dir" && zip -q -X "../$name.war" index.html)
    else
        (cd "$dir" && jar --create --file "../$name.war" index.html)
    fi
    rm -rf "$dir"
}

if [ "$WARS" -gt 0 ]; then
    say "Deploying $WARS tenant WARs (t1..t$WARS.$DOMAIN, each bound by virtualHosts) alongside the shared WAR"
    mkdir -p "$BASE/tenants"
    for i in $(seq 1 "$WARS"); do
        war_of "t$i"
        cat >"$BASE/webapps/t$i.xml" <<XML
<?xml version="1.0"?>
<!DOCTYPE Configure PUBLIC "-//Jetty//Configure//EN" "https://jetty.org/configure_10_0.dtd">
<Configure class="org.eclipse.jetty.ee10.webapp.WebAppContext">
  <Set name="contextPath">/</Set>
  <Set name="war"><Property name="jetty.base" />/tenants/t$i.war</Set>
  <Set name="virtualHosts">
    <Array type="String">
      <Item>t$i.$DOMAIN</Item>
    </Array>
  </Set>
</Configure>
XML
    done
    # hot deploy: tenants can be added and removed while Jetty runs (docs/hosting.md)
    printf '\n## Written by demo.sh\njetty.deploy.scanInterval=1\n' >>"$BASE/start.d/deployment-scanner.ini"
fi

# ---- start and wait until a tenant page answers

# HOST and RSA_HOST: tenants answered by the shared WAR (t1..tW have their own)
if [ "$TENANTS" -ge 42 ] && [ "$WARS" -lt 42 ]; then HOST="t42.$DOMAIN"; else HOST="t$((WARS + 1)).$DOMAIN"; fi
RSA_HOST=""
[ "$WARS" -lt "$RSA" ] && RSA_HOST="t$((WARS + 1)).$DOMAIN"
say "Starting Jetty on https://*:$PORT/ (log: $LOG)"
T=$(date +%s.%N)
(cd "$BASE" && exec java -jar "$HOME_ABS/start.jar") >"$LOG" 2>&1 &
JETTY_PID=$!
READY=false
for _ in $(seq 1 600); do
    if ! kill -0 "$JETTY_PID" 2>/dev/null; then
        tail -n 30 "$LOG" >&2
        JETTY_PID=""
        die "Jetty exited during start: see $LOG"
    fi
    if curl -sf -o /dev/null --max-time 10 --cacert "$PKI/ca.pem" --resolve "$HOST:$PORT:127.0.0.1" "https://$HOST:$PORT/"; then
        READY=true
        break
    fi
    sleep 0.1
done
$READY || die "Jetty did not answer within 60 s: see $LOG"
JETTY_TIME=$(elapsed "$T")
TOTAL_TIME=$(elapsed "$T0")
# Which engine runs, as the node logged it ("Dynamic SNI ready engine=Conscrypt 2.6.0 store=...")
RUNNING=$(sed -n 's/.*Dynamic SNI ready engine=\(.*\) store=.*/\1/p' "$LOG" | head -n 1)
[ -n "$RUNNING" ] || RUNNING="unknown (see $LOG)"
say "TLS engine: $RUNNING"
if [ "$ENGINE" = conscrypt ] && [ "${RUNNING#Conscrypt}" = "$RUNNING" ]; then
    say "--engine conscrypt was asked for but Conscrypt cannot run here: $(grep -m 1 'not Conscrypt' "$LOG" | sed 's/.*but //')"
fi

# Paths as typed from the current directory of the caller.
if [ "$CALLER_DIR" = "$ROOT" ]; then CA="$PKI/ca.pem"; else CA="$ROOT/$PKI/ca.pem"; fi
CMD_H1="curl --cacert $CA --resolve $HOST:$PORT:127.0.0.1 https://$HOST:$PORT/"
CMD_H2="curl --http2 --cacert $CA --resolve $HOST:$PORT:127.0.0.1 'https://$HOST:$PORT/?format=json'"
CMD_RSA="curl --http1.1 --cacert $CA --resolve $RSA_HOST:$PORT:127.0.0.1 --ciphers ECDHE-RSA-AES128-GCM-SHA256 --tls-max 1.2 https://$RSA_HOST:$PORT/info.json"
CMD_WILD="curl --cacert $CA --resolve shop.wild.$DOMAIN:$PORT:127.0.0.1 https://shop.wild.$DOMAIN:$PORT/info.json"
CMD_421="curl -s -o /dev/null -w '%{http_code}\\n' --cacert $CA --resolve $HOST:$PORT:127.0.0.1 -H 'Host: t2.$DOMAIN' https://$HOST:$PORT/"
CMD_OPENSSL="openssl s_client -connect 127.0.0.1:$PORT -servername $HOST -CAfile $CA -alpn h2 -brief </dev/null"
if [ "$CALLER_DIR" = "$ROOT" ]; then ADMIN="$DYNSNI"; BASE_SHOWN="$BASE"; else ADMIN="$ROOT/$DYNSNI"; BASE_SHOWN="$ROOT/$BASE"; fi
# Per-tenant WARs: each one's own page, and its own certificate (up to three shown)
WAR_SHOWN=$(( WARS < 3 ? WARS : 3 ))
war_page() { echo "curl --cacert $CA --resolve t$1.$DOMAIN:$PORT:127.0.0.1 https://t$1.$DOMAIN:$PORT/"; }
war_cert() { echo "openssl s_client -connect 127.0.0.1:$PORT -servername t$1.$DOMAIN -CAfile $CA -brief </dev/null 2>&1 | grep -E 'Peer certificate|Verification'"; }
WAR_LINES=""
if [ "$WARS" -gt 0 ]; then
    WAR_LINES="
  Tenants with a WAR of their own (t1..t$WARS.$DOMAIN: page, then certificate):
"
    for i in $(seq 1 "$WAR_SHOWN"); do
        WAR_LINES="$WAR_LINES
    $(war_page "$i")
    $(war_cert "$i")"
    done
    WAR_LINES="$WAR_LINES

  Add or remove a tenant while Jetty runs: docs/hosting.md (hot deploy is on, every second).
"
fi

cat <<EOF

  jetty-dynamic-sni demo ready: $TENANTS tenants (t1..t$TENANTS.$DOMAIN, t1..t$RSA also RSA, *.wild.$DOMAIN)$( [ "$WARS" -gt 0 ] && printf ', t1..t%s with a WAR of their own' "$WARS" )
  TLS engine $RUNNING
  Jetty ready ${JETTY_TIME}s after launch; total ${TOTAL_TIME}s (certificates ${GEN_TIME}s, import ${IMPORT_TIME}s)
  PostgreSQL $JDBC_URL (schema $SCHEMA), Redis $REDIS_URL
  Jetty base $BASE, log $LOG

  Try (from $CALLER_DIR):

    $CMD_H1
    $CMD_H2
$( [ -n "$RSA_HOST" ] && printf '    %s\n' "$CMD_RSA" )
    $CMD_WILD
    $CMD_421
    $CMD_OPENSSL
$WAR_LINES
  Administer the certificates (same stores):

    $ADMIN --jetty-base $BASE_SHOWN import --cert my.crt --key my.key

  Ctrl-C stops Jetty$( [ -n "$REDIS_PID" ] && printf ', Redis' )$( [ -n "$PG_DIR" ] && printf ' and PostgreSQL' ).

EOF

if $ACME; then
    ACME_HOST="new.$DOMAIN"
    "$DYNSNI" allow "$ACME_HOST" >/dev/null || die "dynsni allow $ACME_HOST failed"
    curl -sf --cacert "$PEBBLE/ca.pem" "https://127.0.0.1:$PEBBLE_MGMT/roots/0" >"$PEBBLE/root.pem" || die "cannot read pebble's root: see $PEBBLE/pebble.log"
    if [ "$CALLER_DIR" = "$ROOT" ]; then PEBBLE_ROOT="$PEBBLE/root.pem"; else PEBBLE_ROOT="$ROOT/$PEBBLE/root.pem"; fi
    CMD_ACME="curl -s -o /dev/null -w '%{http_code} in %{time_total} s\\n' --cacert $PEBBLE_ROOT --resolve $ACME_HOST:$PORT:127.0.0.1 https://$ACME_HOST:$PORT/"
    CMD_ACME_CERT="openssl s_client -connect 127.0.0.1:$PORT -servername $ACME_HOST -CAfile $PEBBLE_ROOT -brief </dev/null 2>&1 | grep -E 'Peer certificate|Verification'"
    say "ACME: $ACME_HOST is allowed and has no certificate yet; its first request:"
    printf '    %s\n      -> %s\n' "$CMD_ACME" "$(eval "$CMD_ACME" || true)"
    printf '    %s\n' "$CMD_ACME_CERT"
    eval "$CMD_ACME_CERT" | sed 's/^/      /' || true
    cat <<EOF

  ACME: $ACME_HOST got a certificate of the local pebble during its first handshake (tls-alpn-01
  answered on port $PORT); it is stored like any other now. pebble log: $PEBBLE/pebble.log
  Allow more names ('*.shops.$DOMAIN': every name one label below), then ask for them:

    $ADMIN --jetty-base $BASE_SHOWN allow 'another.$DOMAIN' '*.shops.$DOMAIN'
    $ADMIN --jetty-base $BASE_SHOWN acme status $ACME_HOST

EOF
fi

if $SMOKE; then
    say "Smoke test: running the commands above"
    failed=0
    run()
    {
        local expect="$1"; shift
        local out
        if out=$(eval "$*" 2>&1) && grep -q -- "$expect" <<<"$out"; then
            printf '  ok    %s\n' "$*"
        else
            printf '  FAIL  %s\n%s\n' "$*" "$out" | head -n 20
            failed=1
        fi
    }
    run "<h1>Tenant ${HOST%%.*} " "$CMD_H1"
    run "\"alpn\":\"h2\"" "$CMD_H2"
    [ -n "$RSA_HOST" ] && run "\"keyType\":\"RSA" "$CMD_RSA"
    run "\"sans\":\\[\"\\*.wild.$DOMAIN\"\\]" "$CMD_WILD"
    run "^421$" "$CMD_421"
    run "Verification: OK" "$CMD_OPENSSL"
    if $ACME; then
        run "Verification: OK" "$CMD_ACME_CERT"
    fi
    for i in $(seq 1 "$WARS"); do
        run "<h1>t$i.$DOMAIN has its own WAR</h1>" "$(war_page "$i")"
        run "Peer certificate: .*CN *= *t$i\.$DOMAIN" "$(war_cert "$i")"
    done
    exit $failed
fi

wait "$JETTY_PID" || true
JETTY_PID=""
die "Jetty stopped: see $LOG"
