#!/bin/sh
# One-shot, once the Temporal server runs (temporalio/admin-tools image): the
# namespace with its retention, and the search attributes cases keep current.
#
# Idempotent: an existing namespace is left as it is, an attribute that already
# exists with the wanted type is fine (one with another type is an error, said
# plainly). Every step is retried until Temporal answers (see retry.sh).
#
#   TEMPORAL_ADDRESS      host:port of the frontend (the temporal CLI reads it)
#   TEMPORAL_NAMESPACE    the namespace the API and the workers use
#   NAMESPACE_RETENTION   how long closed cases stay, e.g. 3650d
#   SEARCH_ATTRIBUTES     "Name=Type Name=Type ...", types as the CLI spells them
set -eu

: "${TEMPORAL_ADDRESS:?host:port of the Temporal frontend}"
: "${TEMPORAL_NAMESPACE:?the namespace to create}"
: "${NAMESPACE_RETENTION:?e.g. 3650d}"
: "${SEARCH_ATTRIBUTES:?Name=Type pairs}"
TEMPORAL="${TEMPORAL_CLI:-temporal}"
export TEMPORAL_ADDRESS
. "$(dirname "$0")/retry.sh"

# The frontend answers SERVING; otherwise the first line of why not (the CLI says more).
cluster_healthy() {
  why="$("$TEMPORAL" operator cluster health 2>&1 >/dev/null)" && return 0
  echo "${why%%
*}"
  return 1
}

namespace_exists() {
  "$TEMPORAL" operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1
}

ensure_namespace() {
  namespace_exists && return 0
  "$TEMPORAL" operator namespace create --namespace "$TEMPORAL_NAMESPACE" \
    --retention "$NAMESPACE_RETENTION" || namespace_exists
}

# The type an attribute has in the namespace (KEYWORD, DATETIME, BOOL ...), or nothing.
attribute_type() {
  "$TEMPORAL" operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" --output json |
    sed -n "s/^ *\"$1\": *\"INDEXED_VALUE_TYPE_\([A-Z_]*\)\".*/\1/p"
}

# Keyword -> KEYWORD, KeywordList -> KEYWORDLIST: comparable with attribute_type's answer.
normalised() {
  echo "$1" | tr -d '_' | tr '[:lower:]' '[:upper:]'
}

# ensure_attribute NAME TYPE: 0 when it is there with TYPE; 1 to retry; exits on a type clash.
ensure_attribute() {
  have="$(attribute_type "$1")" || return 1
  if [ -z "$have" ]; then
    "$TEMPORAL" operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" \
      --name "$1" --type "$2" >/dev/null 2>&1 || true
    have="$(attribute_type "$1")" || return 1
    [ -n "$have" ] || return 1
  fi
  if [ "$(normalised "$have")" != "$(normalised "$2")" ]; then
    echo "search attribute $1 exists as $have, not $2: fix it by hand" >&2
    exit 1
  fi
}

retry "Temporal at $TEMPORAL_ADDRESS" cluster_healthy
retry "namespace $TEMPORAL_NAMESPACE" ensure_namespace
echo "namespace $TEMPORAL_NAMESPACE is there"
for pair in $SEARCH_ATTRIBUTES; do
  name="${pair%%=*}"
  type="${pair#*=}"
  retry "search attribute $name" ensure_attribute "$name" "$type"
  echo "search attribute $name ($type) is there"
done
