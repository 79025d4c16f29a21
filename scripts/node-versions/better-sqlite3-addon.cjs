// Preloaded (NODE_OPTIONS=--require) by scripts/node-versions.sh: loads better-sqlite3's native
// addon from ALMANAC_BETTER_SQLITE3_ADDON, built for the running Node's ABI in the cache, instead
// of node_modules/better-sqlite3/build/, which stays the one built for the default Node.
'use strict';
const path = require('node:path');

const addon = process.env.ALMANAC_BETTER_SQLITE3_ADDON;
if (addon) {
  const dlopen = process.dlopen;
  process.dlopen = function (module, filename, ...rest) {
    return dlopen.call(this, module, path.basename(filename) === 'better_sqlite3.node' ? addon : filename, ...rest);
  };
}
