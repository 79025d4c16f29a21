/**
 * Acquisition channel of a visit, from its source (referrer host) and UTM tags: Plausible's
 * channel names and, in order, its rules (first match wins):
 *
 * | channel | rule |
 * |---|---|
 * | Cross-network | utm_campaign contains "cross-network" |
 * | Paid Shopping | shopping source (amazon, ebay, shopify, …) or campaign matches "shop", and a paid medium |
 * | Paid Search | search source (google, bing, duckduckgo, …) and a paid medium |
 * | Paid Social | social source (facebook, instagram, x/t.co, linkedin, reddit, …) and a paid medium |
 * | Paid Video | video source (youtube, vimeo, twitch, …) and a paid medium |
 * | Display | medium is display, banner, expandable, interstitial or cpm |
 * | Paid Other | a paid medium: contains "cp", or ppc, retargeting, paid… |
 * | Organic Shopping / Social / Video / Search | the source's kind, no paid medium (medium "organic" counts as search) |
 * | Email | source or medium is email / e-mail / e_mail / e mail, or the source is a mail web client |
 * | Affiliates | medium affiliate |
 * | Audio | medium audio |
 * | SMS | source or medium sms |
 * | Mobile Push Notifications | medium ends with "push", or contains "mobile" or "notification" |
 * | Referral | medium referral, app or link, or any other source |
 * | Direct | no source and no UTM tags |
 */

const SEARCH = ['google', 'bing', 'duckduckgo', 'yahoo', 'yandex', 'baidu', 'ecosia', 'qwant', 'startpage', 'brave', 'naver', 'seznam', 'sogou', 'ask', 'aol', 'search'];
const SOCIAL = ['facebook', 'fb', 'instagram', 'twitter', 't.co', 'x.com', 'linkedin', 'lnkd.in', 'reddit', 'pinterest', 'tiktok', 'snapchat', 'tumblr', 'mastodon', 'threads', 'bsky', 'vk', 'weibo', 'quora', 'discord', 'telegram', 'whatsapp', 'news.ycombinator'];
const VIDEO = ['youtube', 'youtu.be', 'vimeo', 'twitch', 'dailymotion', 'wistia'];
const SHOPPING = ['amazon', 'ebay', 'etsy', 'shopify', 'aliexpress', 'walmart', 'shopping', 'igshopping'];
const MAIL = ['mail.google', 'outlook.live', 'mail.yahoo', 'webmail', 'mail.'];

const hostMatches = (source: string, names: readonly string[]): boolean => {
  const host = source.toLowerCase().replace(/^(www|m|l|lm)\./, '');
  return names.some((n) => (n.includes('.') ? host === n || host.endsWith(`.${n}`) || host.startsWith(n) : host.split('.').includes(n) || host.startsWith(`${n}.`)));
};

const isPaid = (medium: string): boolean => /^(.*cp.*|ppc|retargeting|paid.*)$/.test(medium);
const isEmail = (v: string): boolean => /^(email|e-mail|e_mail|e mail)$/.test(v);

/** The channel name; inputs are raw values ('' when absent). */
export function channelOf(source: string, utmSource: string, utmMedium: string, utmCampaign: string): string {
  const medium = utmMedium.toLowerCase();
  const src = (source || utmSource).toLowerCase();
  const campaign = utmCampaign.toLowerCase();
  const paid = isPaid(medium);
  if (campaign.includes('cross-network')) return 'Cross-network';
  const shopping = hostMatches(src, SHOPPING) || /^(.*(([^a-df-z]|^)shop|shopping).*)$/.test(campaign);
  if (shopping && paid) return 'Paid Shopping';
  const search = hostMatches(src, SEARCH);
  const social = hostMatches(src, SOCIAL);
  const video = hostMatches(src, VIDEO);
  if (search && paid) return 'Paid Search';
  if (social && paid) return 'Paid Social';
  if (video && paid) return 'Paid Video';
  if (['display', 'banner', 'expandable', 'interstitial', 'cpm'].includes(medium)) return 'Display';
  if (paid) return 'Paid Other';
  if (shopping) return 'Organic Shopping';
  if (social || /^(.*social.*|social-network|social-media|sm|social network|social media)$/.test(medium)) return 'Organic Social';
  if (video || medium.includes('video')) return 'Organic Video';
  if (search || medium === 'organic') return 'Organic Search';
  if (isEmail(src) || isEmail(medium) || hostMatches(src, MAIL)) return 'Email';
  if (medium === 'affiliate') return 'Affiliates';
  if (medium === 'audio') return 'Audio';
  if (src === 'sms' || medium === 'sms') return 'SMS';
  if (medium.endsWith('push') || medium.includes('mobile') || medium.includes('notification')) return 'Mobile Push Notifications';
  if (['referral', 'app', 'link'].includes(medium) || src !== '') return 'Referral';
  return utmCampaign !== '' ? 'Referral' : 'Direct';
}
