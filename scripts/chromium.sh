#!/usr/bin/env bash
# Make sure headless Chromium is at /usr/bin/chromium for the order page's browser test
# (tests/e2e/test_order_page.py): install Debian's package when it is missing. Playwright
# drives this browser; it never downloads one of its own.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Chromium from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null  # its launcher script warns about /dev/shm on stderr
