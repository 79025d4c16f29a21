/**
 * The intake's vocabulary: what a request says about its sender, the outcome the route turns into
 * a response, and the state each step hands to the next (every stage adds what it learned).
 */
import type { ErrorCode, Rejection } from '../../core/errors.ts';
import type { EnrichedEvent } from '../../core/event.ts';
import type { Tenant, TrackingIdRecord } from '../../core/ports/index.ts';
import type { BotReason } from '../enrich/index.ts';
import type { ValidEvent } from '../validate.ts';

/** What the HTTP layer knows about the sender. */
export interface RequestFacts {
  origin?: string;
  /** X-Almanac-Key. */
  serverKey?: string;
  referer?: string;
  pixel?: boolean;
  /** Client IP as seen by the HTTP layer (socket, or X-Forwarded-For behind a trusted proxy). */
  ip: string;
  userAgent: string;
  /** X-Almanac-Client-IP / X-Almanac-User-Agent: a server-side sender forwarding its visitor's. Only honoured with a valid server key. */
  forwardedIp?: string;
  forwardedUserAgent?: string;
}

export interface ItemRejection {
  index: number;
  eventId: string | null;
  code: ErrorCode;
  message: string;
  detail?: string;
}

export type IngestOutcome =
  | { ok: false; rejection: Rejection; retryAfterSec?: number; allowOrigin?: string }
  | {
      ok: true;
      /** Events appended to the event log. */
      accepted: number;
      /**
       * Valid events taken but not appended, by reason: a known bot's (answered as taken so it
       * does not retry), or a repeat of an eventId earlier in this request (kept once). So
       * accepted + dropped + rejected = the events sent. A resend of an event from an earlier
       * request is not known here: it is accepted, and the aggregator drops it (seen-ID set).
       */
      dropped: Dropped;
      rejected: ItemRejection[];
      bot: BotReason | null;
      allowOrigin?: string;
    };

/** Only the reasons that happened are present. */
export interface Dropped {
  bot?: number;
  repeated?: number;
}

// ---------------------------------------------------------------- the stages of one request

/** The request as it arrives. */
export interface Received {
  items: readonly unknown[];
  facts: RequestFacts;
  receivedAt: number;
}

/** The request's one tracking ID is known. */
export interface Identified extends Received {
  trackingId: string;
}

/** The tracking ID and its tenant are active (auth). */
export interface Admitted extends Identified {
  record: TrackingIdRecord;
  tenant: Tenant;
}

/** The sender may send for the tracking ID (origin or server key). */
export interface Permitted extends Admitted {
  mode: 'browser' | 'server';
  /** Echoed in Access-Control-Allow-Origin. */
  allowOrigin?: string;
}

/** Each item checked: the valid ones (each eventId once), the rejections, the repeats. */
export interface Validated extends Permitted {
  valid: ValidEvent[];
  rejected: ItemRejection[];
  dropped: Dropped;
}

/** Whose IP and user agent the events are about (the visitor's, also for a server sender that forwards them). */
export interface Attributed extends Validated {
  ip: string;
  userAgent: string;
  /** Whether the user agent says anything about the visitor (and so is bot-checked). */
  checkBots: boolean;
}

export interface Enriched extends Attributed {
  events: EnrichedEvent[];
}

/** A step either hands its stage on, or ends the request with an outcome. */
export type StepResult<T> = { next: T } | { done: IngestOutcome };

export type IngestStep<I, O> = (input: I) => StepResult<O> | Promise<StepResult<O>>;

/** A step that needs no I/O. */
export type PureIngestStep<I, O> = (input: I) => StepResult<O>;

export const next = <T>(value: T): StepResult<T> => ({ next: value });
export const done = <T = never>(outcome: IngestOutcome): StepResult<T> => ({ done: outcome });
