/**
 * User-agent parsing into the three dimensions the rollups keep. ua-parser-js 1.x (MIT) only:
 * 2.x is AGPL. Parsing costs tens of µs and the same few hundred UAs make most traffic, so
 * results are memoised in a small LRU.
 */
import UAParser from 'ua-parser-js';
import { LRUCache } from 'lru-cache';

export type Device = 'desktop' | 'mobile' | 'tablet' | 'other';

export interface UaInfo {
  /** Browser family, e.g. 'Chrome', 'Mobile Safari'; '' when unknown. */
  browser: string;
  /** OS family, e.g. 'Windows', 'iOS'; '' when unknown. */
  os: string;
  device: Device;
}

/** Longer UAs are truncated before parsing and memoising: real ones are < 512 chars, the rest is noise or abuse. */
const MAX_UA_CHARS = 1024;

/** ua-parser-js leaves device.type undefined for desktops; these OS families tell a desktop from "unknown". */
const DESKTOP_OS = new Set(['Windows', 'Mac OS', 'macOS', 'Linux', 'Ubuntu', 'Debian', 'Fedora', 'Chromium OS', 'FreeBSD', 'OpenBSD', 'NetBSD', 'Mint', 'Arch', 'Gentoo', 'SUSE', 'openSUSE', 'Red Hat', 'CentOS', 'Solaris', 'Manjaro']);

export function parseUserAgent(ua: string): UaInfo {
  const r = new UAParser(ua.slice(0, MAX_UA_CHARS)).getResult();
  const os = r.os.name ?? '';
  return { browser: r.browser.name ?? '', os, device: deviceOf(r.device.type, os) };
}

function deviceOf(type: string | undefined, os: string): Device {
  if (type === 'mobile') return 'mobile';
  if (type === 'tablet') return 'tablet';
  if (type === undefined && DESKTOP_OS.has(os)) return 'desktop';
  // consoles, TVs, wearables, embedded, and UAs we cannot place
  return 'other';
}

/** A memoised parser; one per collector process. */
export function createUaParser(maxEntries = 5_000): (ua: string) => UaInfo {
  const memo = new LRUCache<string, UaInfo>({ max: Math.max(1, maxEntries) });
  return (ua) => {
    const key = ua.slice(0, MAX_UA_CHARS);
    let info = memo.get(key);
    if (!info) {
      info = parseUserAgent(key);
      memo.set(key, info);
    }
    return info;
  };
}
