#!/bin/sh
# Make sure Debian's chromium is at /usr/bin/chromium for the browser tests.
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && exit 0
fi
echo "WARNING: /usr/bin/chromium is missing (install it with: sudo apt-get install chromium);" \
     "browser tests will be skipped." >&2
exit 0
