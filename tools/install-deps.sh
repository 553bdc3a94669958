#!/bin/sh
# Install every build, test, demo and benchmark dependency from Debian packages.
# Run as root (or with sudo). Idempotent: packages already present are left alone.
# --dry-run: install nothing; name the missing packages and the command that installs them
# (exit status 1 when some are missing). `make` uses it when it does not run as root.
set -e
PKGS="build-essential pkgconf libopenblas-dev zlib1g-dev libcjson-dev python3-numpy python3-pytest
      python3-pycparser python3-venv python3-setuptools python3-pip"
[ -n "$AV_EXTRA_PKGS" ] && PKGS="$PKGS $AV_EXTRA_PKGS"
dry_run=no
[ "$1" = --dry-run ] && dry_run=yes
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  if [ "$dry_run" = yes ]; then
    echo "the Debian packages ($PKGS) are all installed: is pkg-config's search path (PKG_CONFIG_PATH) right?"
  else echo "all dependencies present"; fi
  exit 0
fi
if [ "$dry_run" = yes ]; then
  echo "missing Debian packages:$missing"
  echo "install them with:  sudo apt-get install -y$missing"
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "missing Debian packages:$missing"; echo "install them as root: apt-get install -y$missing"; exit 1
  fi
fi
echo "installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
