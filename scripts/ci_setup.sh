#!/usr/bin/env bash
# System tools some tests use, installed with apt-get when missing (root + Debian/Ubuntu only):
#   openssh-server, openssh-client  tests/test_bench.py runs the ssh device against a local sshd
#   qemu-user-static, debootstrap,  device_tests run on qemu-aarch64 (ARM parity)
#   debian-archive-keyring
#   qemu-user, gcc, libc6-dev       tests/test_arm_estimate.py: the dynamic qemu-aarch64 loads the
#                                   instruction-counting plugin that gcc builds (the static one cannot)
#   (npm) kotlin-compiler           tests/test_android.py compiles export/android's core: scripts/kotlin_setup.sh
# Never fails: without root or apt-get it says what is missing and the tests that need it skip
# with that reason. RUNLEVEL=1 keeps the package scripts from starting an ssh service.
set -u
bash "$(dirname "$0")/kotlin_setup.sh"
missing=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
have sshd || missing+=(openssh-server)
have ssh || missing+=(openssh-client)
have qemu-aarch64-static || missing+=(qemu-user-static)
have debootstrap || missing+=(debootstrap)
have qemu-aarch64 || missing+=(qemu-user)
have gcc || missing+=(gcc)
[ -f /usr/include/stdio.h ] || missing+=(libc6-dev)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ci_setup: apt-get install ${missing[*]}" >&2
  { apt-get update -qq && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
    || echo "ci_setup: apt-get failed; the tests needing ${missing[*]} will skip" >&2
else
  echo "ci_setup: missing ${missing[*]} (needs root + apt-get); the tests needing them will skip" >&2
fi
exit 0
