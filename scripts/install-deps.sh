#!/usr/bin/env bash
# Installs everything specd needs to build and test, from Debian 12 packages.
# Skips apt entirely when every package is already there.
set -euo pipefail
packages=(
  cmake ninja-build g++ pkg-config git openssh-client gnupg
  libyaml-cpp-dev libvalijson-dev nlohmann-json3-dev libcli11-dev
  libsqlite3-dev libgit2-dev libspdlog-dev libxxhash-dev libssl-dev
  libmbedtls-dev libssh2-1-dev libhttp-parser-dev libpcre2-dev zlib1g-dev  # libgit2's archives: specd-hook
  libnats-dev nats-server
  libgtest-dev libgmock-dev
  clang libclang-rt-14-dev clang-format
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "specd: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
