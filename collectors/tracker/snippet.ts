/** The HTML an admin pastes into a site's <head>. */

export interface SnippetOptions {
  /** Adds data-respect-dnt="true" (the tracking ID's respectDnt setting). */
  respectDnt?: boolean;
  /** Adds data-allow-localhost="true": track pages on localhost / 127.0.0.1 (trying Almanac out locally). */
  allowLocalhost?: boolean;
}

export function snippetFor(trackingId: string, collectorUrl: string, options: SnippetOptions = {}): string {
  const base = collectorUrl.replace(/\/+$/, '');
  const attrs = [
    'defer',
    `src="${escapeAttr(base + '/tracker.js')}"`,
    `data-tracking-id="${escapeAttr(trackingId)}"`,
    `data-api="${escapeAttr(base)}"`,
    ...(options.respectDnt ? ['data-respect-dnt="true"'] : []),
    ...(options.allowLocalhost ? ['data-allow-localhost="true"'] : []),
  ];
  return `<script ${attrs.join(' ')}></script>`;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
