/** Cookieless visitor ID: nothing is stored in the browser, and the ID changes every UTC day. */
import { createHmac } from 'node:crypto';

/** Bytes of the HMAC kept: 128 bits make collisions between visitors of one site negligible. */
const VISITOR_ID_BYTES = 16;

/**
 * HMAC-SHA256 keyed by the day's salt over (trackingId, IP, user agent), truncated to 16
 * bytes, hex (32 chars). Including the tracking ID means one person gets unrelated IDs on
 * two sites. NUL separators keep ("ab","c") and ("a","bc") apart.
 */
export function visitorId(saltHex: string, trackingId: string, ip: string, ua: string): string {
  return createHmac('sha256', Buffer.from(saltHex, 'hex'))
    .update(`${trackingId}\0${ip}\0${ua}`)
    .digest()
    .subarray(0, VISITOR_ID_BYTES)
    .toString('hex');
}
