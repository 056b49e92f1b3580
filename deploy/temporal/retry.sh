# Sourced by the set-up scripts (POSIX sh: the admin-tools image has no bash).
#
# retry WHAT COMMAND...: run COMMAND until it succeeds, at most SETUP_ATTEMPTS
# times (default 60), SETUP_PAUSE seconds apart (default 2); say so each time.
ATTEMPTS="${SETUP_ATTEMPTS:-60}"
PAUSE="${SETUP_PAUSE:-2}"

retry() {
  what="$1"
  shift
  attempt=1
  until "$@"; do
    if [ "$attempt" -ge "$ATTEMPTS" ]; then
      echo "gave up: $what, after $attempt attempts" >&2
      return 1
    fi
    echo "$what: not yet (attempt $attempt/$ATTEMPTS), again in ${PAUSE}s"
    attempt=$((attempt + 1))
    sleep "$PAUSE"
  done
}
