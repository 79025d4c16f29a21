/**
 * Step: whose IP and user agent the events are about. A server-side sender speaks for its
 * visitor only when it forwards the visitor's details (X-Almanac-Client-IP, X-Almanac-User-Agent);
 * its own UA (curl, node) says nothing about the visitor, so it is not bot-checked unless
 * forwarded. A forwarded IP that is not an IP address is ignored. Pure.
 */
import { isIP } from 'node:net';
import { next, type Attributed, type PureIngestStep, type Validated } from './types.ts';

export function createSenderStep(): PureIngestStep<Validated, Attributed> {
  return function sender(input) {
    const { facts } = input;
    const server = input.mode === 'server';
    const userAgent = (server && facts.forwardedUserAgent) || facts.userAgent;
    const ip = (server && facts.forwardedIp && isIP(facts.forwardedIp) ? facts.forwardedIp : '') || facts.ip;
    const checkBots = !server || Boolean(facts.forwardedUserAgent);
    return next({ ...input, ip, userAgent, checkBots });
  };
}
