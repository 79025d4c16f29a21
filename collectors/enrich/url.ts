/** URL-derived fields: host/path split, UTM parameters and the referrer source. Pure. */

export interface UrlParts {
  /** Lower-case host name without port, '' for URLs without one. */
  host: string;
  /** Path without query or fragment; '/' at least for http(s) URLs. */
  path: string;
  utmSource: string;
  utmMedium: string;
  utmCampaign: string;
  utmTerm: string;
  utmContent: string;
}

/** Longest UTM value kept: they feed breakdown keys, where longer values are noise. */
const MAX_UTM_CHARS = 256;

export function splitUrl(url: string): UrlParts {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { host: '', path: '', utmSource: '', utmMedium: '', utmCampaign: '', utmTerm: '', utmContent: '' };
  }
  const q = u.searchParams;
  const utm = (k: string) => (q.get(k) ?? '').trim().slice(0, MAX_UTM_CHARS);
  return {
    host: u.hostname.toLowerCase(),
    path: u.pathname,
    utmSource: utm('utm_source'),
    utmMedium: utm('utm_medium'),
    utmCampaign: utm('utm_campaign'),
    utmTerm: utm('utm_term'),
    utmContent: utm('utm_content'),
  };
}

/**
 * The referrer's host name, the "source" of a visit; '' for direct traffic (no or unparsable
 * referrer) and for navigation within the site. A leading "www." is dropped on both sides so
 * www.example.com and example.com are one site and one source.
 */
export function referrerSource(referrer: string | undefined, pageHost: string): string {
  if (!referrer) return '';
  let host: string;
  try {
    host = new URL(referrer).hostname.toLowerCase();
  } catch {
    return '';
  }
  const ref = stripWww(host);
  return ref === '' || ref === stripWww(pageHost) ? '' : ref;
}

function stripWww(host: string): string {
  return host.startsWith('www.') ? host.slice(4) : host;
}
