#!/usr/bin/env bash
# Start the project's private Postfix test MTA: one listener per real-world
# SMTP failure, all on 127.0.0.1 only, nothing ever relayed off the machine.
#
#   sudo test/mta/postfix/start.sh     # then read $MTA_STATE/mta.json
#
# Idempotent: installs what is missing (Debian 12 packages), stops a running
# instance, and starts a fresh one: new FREE ports (asked from the kernel),
# new self-signed certificate, new random SASL password, empty queue and
# maildir. Everything lives under $MTA_STATE (default
# /tmp/nodemailer-resilient-mta). The system-wide Postfix is never configured
# or started. stop.sh stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mta_need_root

SASL_USER=user
SASL_REALM=mta.test

# ---------------------------------------------------------------- packages
PKGS=(postfix postfix-pcre libsasl2-modules sasl2-bin openssl iproute2)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  mta_log "installing: ${missing[*]}"
  # Never let the package start (or configure) the system-wide Postfix.
  temp_policy=
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    temp_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ -n $temp_policy ]]; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
fi
command -v node >/dev/null || { mta_log "node is required (to pick free ports)"; exit 1; }

# ------------------------------------------------------ state dir (safely)
# The default lives in /tmp: refuse a symlink or a directory someone else owns.
if [[ -L $MTA_STATE ]] || { [[ -e $MTA_STATE ]] && [[ $(stat -c %u "$MTA_STATE") != 0 ]]; }; then
  mta_log "refusing to use $MTA_STATE: it is a symlink or not owned by root"
  exit 1
fi

# A dedicated unprivileged owner for the delivered maildir.
if ! id "$MTA_MAIL_USER" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$MTA_MAIL_USER"
fi
MAIL_UID=$(id -u "$MTA_MAIL_USER")
MAIL_GID=$(id -g "$MTA_MAIL_USER")

# ------------------------------------------------ stop a running instance
if [[ -n $(mta_master_pid) ]]; then
  mta_log "already running; restarting fresh"
  "$MTA_DIR/stop.sh" >/dev/null
fi

# ------------------------------------------------------- fresh state tree
umask 022
rm -rf "$MTA_STATE/spool" "$MTA_STATE/mail" "$MTA_STATE/etc" "$MTA_STATE/tls" "$MTA_STATE/mta.json"
install -d -m 755 -o root -g root "$MTA_STATE" "$MTA_ETC" "$MTA_ETC/sasl" \
  "$MTA_STATE/spool" "$MTA_STATE/log"
install -d -m 700 -o root -g root "$MTA_STATE/tls"
install -d -m 700 -o postfix -g postfix "$MTA_STATE/data"
install -d -m 755 -o "$MAIL_UID" -g "$MAIL_GID" "$MTA_STATE/mail" "$MTA_STATE/mail/sink" \
  "$MTA_STATE/mail/sink/new" "$MTA_STATE/mail/sink/cur" "$MTA_STATE/mail/sink/tmp"
: >"$MTA_STATE/log/maillog"

# ---------------------------------------------------------------- SASL user
# Cyrus sasldb; login name is the full address user@mta.test; new random
# password every start (tests read it from mta.json).
SASL_PASS=$(openssl rand -hex 18)
printf '%s' "$SASL_PASS" |
  saslpasswd2 -p -c -f "$MTA_ETC/sasl/sasldb2" -u "$SASL_REALM" "$SASL_USER"
chown root:postfix "$MTA_ETC/sasl/sasldb2"
chmod 640 "$MTA_ETC/sasl/sasldb2"

# ---------------------------------------------------------------- TLS cert
# Self-signed (it is its own CA), SAN 127.0.0.1 / localhost / mail.mta.test.
CERT="$MTA_STATE/tls/mta-cert.pem"
KEY="$MTA_STATE/tls/mta-key.pem"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
  -keyout "$KEY" -out "$CERT" -subj "/CN=$MTA_TLS_NAME" \
  -addext "subjectAltName=DNS:$MTA_TLS_NAME,DNS:localhost,IP:127.0.0.1" \
  >/dev/null 2>&1
chmod 600 "$KEY"
chmod 644 "$CERT"
chmod 755 "$MTA_STATE/tls" # the cert is public; the key file stays 600

# ------------------------------------------------------------ static config
for f in virtual_domains virtual_mailbox helo_access sender_verified tempfail_sender tempfail_recipient; do
  install -m 644 "$MTA_DIR/conf/$f.pcre" "$MTA_ETC/$f.pcre"
done

declare -A PORT
render() { # render SRC DST
  local sed_args=(-e "s|@STATE@|$MTA_STATE|g" -e "s|@ETC@|$MTA_ETC|g"
    -e "s|@UID@|$MAIL_UID|g" -e "s|@GID@|$MAIL_GID|g")
  local name
  for name in "${MTA_LISTENERS[@]}"; do
    sed_args+=(-e "s|@PORT_${name}@|${PORT[$name]}|g")
  done
  sed "${sed_args[@]}" "$1" >"$2.tmp"
  if grep -q '@[A-Z_0-9]*@' "$2.tmp"; then
    mta_log "unrendered placeholder in $2: $(grep -o '@[A-Z_0-9]*@' "$2.tmp" | head -1)"
    exit 1
  fi
  mv -f "$2.tmp" "$2"
}

# Ask the kernel for N distinct free TCP ports on 127.0.0.1 (bound at once,
# then released; start() below detects the rare case that one got taken).
free_ports() {
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]);
    const servers = [];
    const listen = () => new Promise((ok, ko) => {
      const s = net.createServer();
      s.once("error", ko);
      s.listen(0, "127.0.0.1", () => { servers.push(s); ok(s.address().port); });
    });
    (async () => {
      const ports = [];
      for (let i = 0; i < n; i++) ports.push(await listen());
      for (const s of servers) s.close();
      console.log(ports.join(" "));
    })().catch((e) => { console.error(e); process.exit(1); });
  ' "$1"
}

listening() { ss -Hltn "src 127.0.0.1 and sport = :$1" 2>/dev/null | grep -q .; }

# ------------------------------------------------------------------- start
started=
for attempt in 1 2 3; do
  read -r -a ports <<<"$(free_ports "${#MTA_LISTENERS[@]}")"
  i=0
  for name in "${MTA_LISTENERS[@]}"; do
    PORT[$name]=${ports[$i]}
    i=$((i + 1))
  done
  render "$MTA_DIR/conf/main.cf.in" "$MTA_ETC/main.cf"
  render "$MTA_DIR/conf/master.cf.in" "$MTA_ETC/master.cf"
  render "$MTA_DIR/conf/smtpd.conf.in" "$MTA_ETC/sasl/smtpd.conf"

  mta_postfix check
  mta_postfix start 2>&1 | sed 's/^/[postfix] /' >&2

  # Wait until every listener accepts connections (up to 20 s).
  up=0
  for _ in $(seq 1 100); do
    up=0
    for name in "${MTA_LISTENERS[@]}"; do
      listening "${PORT[$name]}" && up=$((up + 1))
    done
    ((up == ${#MTA_LISTENERS[@]})) && break
    [[ -n $(mta_master_pid) ]] || sleep 0.5 # master may still be writing its pid
    sleep 0.2
  done
  if ((up == ${#MTA_LISTENERS[@]})) && [[ -n $(mta_master_pid) ]]; then
    started=1
    break
  fi
  mta_log "attempt $attempt: only $up/${#MTA_LISTENERS[@]} listeners came up; log tail:"
  tail -n 20 "$MTA_STATE/log/maillog" >&2 || true
  "$MTA_DIR/stop.sh" >/dev/null 2>&1 || true
done
if [[ -z $started ]]; then
  mta_log "giving up; full log: $MTA_STATE/log/maillog"
  exit 1
fi

# -------------------------------------------------- mta.json for the tests
# Contains the (throw-away) SASL password: readable by root only.
ports_json=
for name in "${MTA_LISTENERS[@]}"; do
  ports_json+="${ports_json:+,}\"$name\":${PORT[$name]}"
done
MTA_JSON_PORTS="{$ports_json}" MTA_JSON_PASS="$SASL_PASS" MTA_JSON_USER="$SASL_USER@$SASL_REALM" \
  MTA_JSON_CA="$CERT" MTA_JSON_STATE="$MTA_STATE" MTA_JSON_HOST="$MTA_HOST" MTA_JSON_TLSNAME="$MTA_TLS_NAME" \
  MTA_JSON_PID="$(mta_master_pid)" \
  node -e '
    const fs = require("node:fs");
    const e = process.env;
    const out = {
      host: e.MTA_JSON_HOST,
      ports: JSON.parse(e.MTA_JSON_PORTS),
      caFile: e.MTA_JSON_CA,
      tlsServername: e.MTA_JSON_TLSNAME,
      user: e.MTA_JSON_USER,
      pass: e.MTA_JSON_PASS,
      maildir: e.MTA_JSON_STATE + "/mail/sink",
      queueDir: e.MTA_JSON_STATE + "/spool",
      maillog: e.MTA_JSON_STATE + "/log/maillog",
      state: e.MTA_JSON_STATE,
      masterPid: Number(e.MTA_JSON_PID),
    };
    const file = e.MTA_JSON_STATE + "/mta.json";
    fs.writeFileSync(file + ".tmp", JSON.stringify(out, null, 2) + "\n", { mode: 0o600 });
    fs.renameSync(file + ".tmp", file);
  '

cat <<EOF
mta: Postfix $(postconf -c "$MTA_ETC" -h mail_version 2>/dev/null) up on $MTA_HOST, master pid $(mta_master_pid)
  PLAIN25           ${PORT[PLAIN25]}  plain SMTP, no STARTTLS, no AUTH
  SUBMISSION587     ${PORT[SUBMISSION587]}  STARTTLS required; AUTH only after STARTTLS; AUTH required
  SMTPS465          ${PORT[SMTPS465]}  implicit TLS; AUTH required
  NOAUTH587         ${PORT[NOAUTH587]}  STARTTLS optional; AUTH never advertised; loopback relay
  HELOSTRICT        ${PORT[HELOSTRICT]}  bad EHLO name rejected at RCPT TO (delay_reject=yes)
  HELOSTRICT_EARLY  ${PORT[HELOSTRICT_EARLY]}  bad EHLO name rejected at EHLO
  SENDERCHECK       ${PORT[SENDERCHECK]}  MAIL FROM must be @verified.mta.test
  TEMPFAIL          ${PORT[TEMPFAIL]}  from tempfail@ 451; rcpt tempfail@ 451, full@ 452, nouser@ 550
  config for tests: $MTA_STATE/mta.json   log: $MTA_STATE/log/maillog
EOF
