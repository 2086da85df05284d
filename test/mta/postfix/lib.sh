# shellcheck shell=bash
# Shared settings for the project's private Postfix test MTA (sourced, not run).
# Adapted from the team's smtp-rig; see README.md next to this file.
#
# Environment (optional):
#   MTA_STATE   state dir (default /tmp/nodemailer-resilient-mta). Pass the same
#               value to start.sh, stop.sh and the test run.

MTA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MTA_STATE="${MTA_STATE:-/tmp/nodemailer-resilient-mta}"
MTA_ETC="$MTA_STATE/etc"
MTA_HOST=127.0.0.1
MTA_TLS_NAME=mail.mta.test
MTA_MAIL_USER=nrmtamail # system user that owns the delivered maildir

# One smtpd listener per real-world failure (see conf/master.cf.in).
MTA_LISTENERS=(PLAIN25 SUBMISSION587 SMTPS465 NOAUTH587 HELOSTRICT HELOSTRICT_EARLY SENDERCHECK TEMPFAIL)

mta_postfix() { /usr/sbin/postfix -c "$MTA_ETC" "$@"; }

# PID of this instance's Postfix master, if it is running (empty otherwise).
mta_master_pid() {
  local pidfile="$MTA_STATE/spool/pid/master.pid" pid
  [[ -r $pidfile ]] || return 0
  pid=$(tr -dc '0-9' <"$pidfile")
  [[ -n $pid ]] || return 0
  # Must be alive and really a Postfix master (pid files go stale).
  if [[ -r /proc/$pid/comm ]] && [[ $(cat "/proc/$pid/comm") == master ]]; then
    echo "$pid"
  fi
}

mta_need_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "$(basename "$0"): must run as root (it installs and runs a private Postfix)" >&2
    exit 1
  fi
}

mta_log() { printf '[mta] %s\n' "$*" >&2; }
