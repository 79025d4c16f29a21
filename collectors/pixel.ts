/** GET /px.gif's query as an event, for an <img> that cannot run the tracker. */
import { randomUUID } from 'node:crypto';
import { reject } from '../core/errors.ts';
import type { Parsed } from './request.ts';

/**
 * The pixel's event: `d` holds a JSON event (URL-encoded, or base64url for URL-safety), or
 * short parameters tid, u (url), r (referrer), n (custom event name), t (title), id (eventId),
 * ts. An <img> in a <noscript> or an e-mail cannot make a UUID or know its page, so a
 * missing eventId is generated and a missing url is the Referer.
 */
export function pixelEvent(query: Record<string, unknown>, referer: string | undefined): Parsed {
  const q = (k: string): string | undefined => {
    const v = query[k];
    const s = Array.isArray(v) ? v[0] : v;
    return typeof s === 'string' ? s : undefined;
  };
  let ev: Record<string, unknown>;
  const d = q('d');
  if (d !== undefined) {
    let text = d.trim();
    if (!text.startsWith('{')) text = Buffer.from(text, 'base64url').toString('utf8');
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      return reject('malformed_json', `d: ${(err as Error).message.slice(0, 200)}`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) return reject('invalid_event', 'd: send one JSON object');
    ev = { ...(v as Record<string, unknown>) };
  } else {
    const name = q('n');
    const ts = q('ts');
    ev = {
      trackingId: q('tid'),
      type: name ? 'event' : 'pageview',
      ...(name ? { name } : {}),
      url: q('u'),
      ...(q('r') ? { referrer: q('r') } : {}),
      ...(q('t') ? { title: q('t') } : {}),
      ...(q('id') ? { eventId: q('id') } : {}),
      ...(ts !== undefined ? { ts: Number(ts) } : {}),
    };
  }
  ev.eventId ??= randomUUID();
  if (ev.url === undefined && referer) ev.url = referer;
  return { ok: true, value: ev };
}
