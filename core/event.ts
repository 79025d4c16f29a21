/**
 * The event model, shared by every part of Almanac. A client sends an `IncomingEvent`;
 * the collector validates it with `incomingEventSchema` and enriches it into an `EnrichedEvent`,
 * which is what the event log, the raw archive and the aggregator see.
 */
import { z } from 'zod';

/**
 * How far ahead of the collector's clock a client timestamp may be by default (it is then clamped
 * to the receive time; further ahead is rejected): 10 min. Replays read the event log by record
 * time and widen their window by it.
 */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 10 * 60_000;

export const LIMITS = {
  urlChars: 2048,
  titleChars: 512,
  nameChars: 120,
  propsCount: 30,
  propKeyChars: 64,
  propValueChars: 256,
  batchEvents: 500,
} as const;

export interface Revenue {
  /** Amount in the currency's major unit (e.g. 12.5 EUR). Stored exactly as minor units by the pipeline. */
  amount: number;
  /** ISO 4217 code, upper case. */
  currency: string;
}

export interface IncomingEvent {
  /** Client-generated UUID; the same ID sent twice is counted once. */
  eventId: string;
  trackingId: string;
  type: 'pageview' | 'event';
  /** Custom event name; required when type is 'event'. */
  name?: string;
  url: string;
  referrer?: string;
  title?: string;
  /** Client timestamp, ms since the epoch. Omitted means "now". */
  ts?: number;
  props?: Record<string, string | number>;
  revenue?: Revenue;
}

export interface EnrichedEvent {
  eventId: string;
  trackingId: string;
  type: 'pageview' | 'event';
  /** '' for pageviews. */
  name: string;
  url: string;
  /** Host and path of `url`, without query or fragment. */
  host: string;
  path: string;
  referrer: string;
  /** Referrer host, '' for direct or same-site traffic. */
  source: string;
  title: string;
  /** Effective event time, ms since the epoch (client time, bounded by the collector). */
  ts: number;
  receivedAt: number;
  props: Record<string, string | number>;
  revenue: Revenue | null;
  /** Cookieless visitor ID: keyed hash of (daily salt, trackingId, IP, user agent), hex. */
  visitorId: string;
  browser: string;
  os: string;
  /** Major version of the browser / OS ('120', '17'); '' when unknown. Absent on events archived before explore shipped. */
  browserVersion?: string;
  osVersion?: string;
  /** 'desktop' | 'mobile' | 'tablet' | 'other' */
  device: string;
  /** ISO 3166-1 alpha-2, or '' when unknown. */
  country: string;
  utmSource: string;
  utmMedium: string;
  utmCampaign: string;
  utmTerm: string;
  utmContent: string;
}

/** A tracking ID: what the collector, the stats API (site_id) and the OpenAPI document accept. */
export const TRACKING_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
/** The UUID shape zod's .uuid() checks (any version), as the OpenAPI document states it. */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/**
 * Lengths are counted in characters (code points), as JSON Schema's maxLength counts them, not
 * in UTF-16 units as String.length does: 200 emoji are 200 characters to a client generated
 * from the document, and must not be refused as 400.
 */
export const charCount = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};
const chars = (max: number, min = 0) =>
  z.string().superRefine((s, ctx) => {
    const n = charCount(s);
    if (n < min) ctx.addIssue({ code: z.ZodIssueCode.too_small, minimum: min, type: 'string', inclusive: true, message: `at least ${min} characters` });
    if (n > max) ctx.addIssue({ code: z.ZodIssueCode.too_big, maximum: max, type: 'string', inclusive: true, message: `at most ${max} characters` });
  });

const propValue = z.union([chars(LIMITS.propValueChars), z.number().finite()]);

export const incomingEventSchema = z
  .object({
    eventId: z.string().uuid({ message: 'eventId must be a UUID (crypto.randomUUID())' }),
    trackingId: z.string().min(1).max(64).regex(new RegExp(TRACKING_ID_PATTERN), 'trackingId has only letters, digits, - and _'),
    type: z.enum(['pageview', 'event']).default('pageview'),
    name: chars(LIMITS.nameChars, 1).optional(),
    url: chars(LIMITS.urlChars).pipe(z.string().url({ message: 'url must be an absolute URL' })),
    referrer: chars(LIMITS.urlChars).optional(),
    title: chars(LIMITS.titleChars).optional(),
    ts: z.number().int().positive().optional(),
    props: z
      .record(chars(LIMITS.propKeyChars, 1), propValue)
      .refine((p) => Object.keys(p).length <= LIMITS.propsCount, `props has at most ${LIMITS.propsCount} keys`)
      .optional(),
    revenue: z
      .object({
        amount: z.number().finite().min(0).max(1e12),
        currency: z.string().regex(/^[A-Z]{3}$/, 'currency is an ISO 4217 code like EUR'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.type === 'event' && !e.name) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['name'], message: 'a custom event (type "event") needs a name' });
    if (e.type === 'pageview' && e.name) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['name'], message: 'a pageview has no name; use type "event" for custom events' });
  });

// Bind the schema to the interface so the two cannot drift.
type SchemaOutput = z.output<typeof incomingEventSchema>;
const _bound: (e: SchemaOutput) => IncomingEvent = (e) => e;
void _bound;
