#!/bin/sh
# tests/deps.sh — `make deps`: install the Debian packages winnow needs.
# Idempotent and silent when everything is present; runs apt-get update only
# when something must be installed.
PKGS="build-essential pkg-config zlib1g-dev libzstd-dev liblz4-dev libsqlite3-dev sqlite3
libfaiss-dev libopenblas-dev liblapack-dev libcsv-dev libsimdjson-dev nettle-dev libcjson-dev
libxxhash-dev libutf8proc-dev libyaml-dev jq zstd gzip xz-utils bzip2 lz4 python3-numpy python3-scipy"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "make deps: installing$missing" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2 || exit 1
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2 || exit 1
