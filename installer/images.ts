/**
 * Every image the appliance runs, pinned by version (a tag never moves to another release). For
 * production, pin digests as well: `docker compose pull` then `docker compose images --format json`
 * shows them. Licences matter on-prem, so each choice says why.
 */
export const IMAGES = {
  // Official Apache Kafka image, KRaft mode (no ZooKeeper); the same 3.9 line as the native stack.
  kafka: 'apache/kafka:3.9.1',
  // Apache Cassandra 5.0, the release the native stack and the tests run.
  cassandra: 'cassandra:5.0.8',
  // FerretDB v1 (Apache-2.0) on its SQLite backend speaks the MongoDB wire protocol; it is what
  // the native stack and the tests run, and it keeps SSPL software out of the appliance.
  ferretdb: 'ghcr.io/ferretdb/ferretdb:1.24.2',
  // MongoDB Community Server is under the SSPL: offered as an alternative (--docstore mongodb) for
  // sites that already run and license it. Its image also carries mongodump/mongorestore (MongoDB
  // Database Tools, Apache-2.0), which backups use as a client against either store.
  mongodb: 'mongo:7.0.25',
  // Redis 7.2 is the last BSD-3-Clause line (7.4 and later: RSALv2/SSPL, 8.x adds AGPL). Valkey
  // (BSD, `valkey/valkey:8.1`) is a drop-in replacement when 7.2 support ends.
  redis: 'redis:7.2.11-bookworm',
  // HAProxy 3.2 LTS (GPL-2.0 program run as a separate process; nothing of it is linked into Almanac).
  haproxy: 'haproxy:3.2.4',
} as const;

/** The Almanac image: one image for every role. Built by docker/Dockerfile. */
export const DEFAULT_ALMANAC_IMAGE = 'ghcr.io/almanac-analytics/almanac';
