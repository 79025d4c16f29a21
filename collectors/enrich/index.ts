/**
 * Turns validated events into EnrichedEvents. Everything that depends on the request (IP,
 * user agent, salt, country) is worked out once per request, since a batch shares them.
 */
import type { EnrichedEvent } from '../../core/event.ts';
import type { ValidEvent } from '../validate.ts';
import { countryOf, type GeoReader } from './geo.ts';
import type { SaltSource } from './salt.ts';
import { createUaParser, type UaInfo } from './ua.ts';
import { referrerSource, splitUrl } from './url.ts';
import { visitorId } from './visitor.ts';

export { detectBot, type BotReason } from './bot.ts';
export { countryOf, openGeoReader, defaultGeoDbPath, type GeoReader } from './geo.ts';
export { createSaltSource, oldestSaltDayToKeep, SALT_MAX_AGE_MS, type SaltSource } from './salt.ts';
export { createUaParser, parseUserAgent, type UaInfo, type Device } from './ua.ts';
export { referrerSource, splitUrl, type UrlParts } from './url.ts';
export { visitorId } from './visitor.ts';

/** What the request tells about the visitor. */
export interface RequestContext {
  ip: string;
  userAgent: string;
  receivedAt: number;
}

/** Per-request values shared by the request's events. */
export interface VisitorContext {
  ua: UaInfo;
  country: string;
  salt: string;
  ip: string;
  userAgent: string;
  receivedAt: number;
}

/** Pure: one validated event plus the request's visitor context. */
export function enrichEvent(e: ValidEvent, v: VisitorContext): EnrichedEvent {
  const parts = splitUrl(e.url);
  const referrer = e.referrer ?? '';
  return {
    eventId: e.eventId,
    trackingId: e.trackingId,
    type: e.type,
    name: e.type === 'event' ? (e.name ?? '') : '',
    url: e.url,
    host: parts.host,
    path: parts.path,
    referrer,
    source: referrerSource(referrer, parts.host),
    title: e.title ?? '',
    ts: e.ts,
    receivedAt: v.receivedAt,
    props: e.props ?? {},
    revenue: e.revenue ?? null,
    visitorId: visitorId(v.salt, e.trackingId, v.ip, v.userAgent),
    browser: v.ua.browser,
    os: v.ua.os,
    device: v.ua.device,
    country: v.country,
    utmSource: parts.utmSource,
    utmMedium: parts.utmMedium,
    utmCampaign: parts.utmCampaign,
    utmTerm: parts.utmTerm,
    utmContent: parts.utmContent,
  };
}

export interface EnricherDeps {
  salts: SaltSource;
  /** A promise while the database is being opened: events wait for it rather than lose their country. */
  geo?: GeoReader | null | Promise<GeoReader | null>;
}

export interface Enricher {
  enrich(events: readonly ValidEvent[], ctx: RequestContext): Promise<EnrichedEvent[]>;
}

export function createEnricher(deps: EnricherDeps, options: { uaMemoEntries?: number } = {}): Enricher {
  const parseUa = createUaParser(options.uaMemoEntries);
  return {
    async enrich(events, ctx) {
      if (events.length === 0) return [];
      // The salt follows the receive day, not the event's: a salt is gone after 48 h but
      // events may be up to maxEventAgeHours old, and one visit should keep one ID.
      const [salt, geo] = await Promise.all([deps.salts.saltFor(ctx.receivedAt), deps.geo]);
      const v: VisitorContext = {
        ua: parseUa(ctx.userAgent),
        country: countryOf(geo, ctx.ip),
        salt,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        receivedAt: ctx.receivedAt,
      };
      return events.map((e) => enrichEvent(e, v));
    },
  };
}
