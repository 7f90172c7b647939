import { buildCatalogue, type Catalogue, type Category } from './catalogue.js';
import { cumulate, hashSeed, pick, pickWeighted, type Rng, randInt, reseedableRng } from './prng.js';

/**
 * Who visits the demo store: a stable pool of visitors (device, home IP, favourite categories
 * and brands, some with an account), where they come from (search, social, newsletter, direct)
 * and the crawlers and scrapers that hit the shop alongside them. Visitors are derived from
 * (seed, index) alone, so a returning visitor looks the same on every visit without keeping
 * a table of them in memory.
 */

export interface Visitor {
  visitorId: string; // 9 digits, like REES46 user_id
  accountId: string | null; // set for visitors with an account; sent as user_id when logged in
  userAgent: string;
  ip: string;
  affinity: Category[]; // 1–2 categories they mostly browse
  brand: string | undefined; // a brand they prefer, if any
  propensity: number; // multiplies the chance to add to cart: some people just browse
}

export interface Referral {
  referrer: string | null;
  query: string; // '' or '?utm_source=…' appended to the landing URL
}

export interface BotClient {
  family: 'googlebot' | 'bingbot' | 'python-requests' | 'headless-chrome';
  userAgent: string;
  ip: string;
  crawler: boolean; // search crawlers spread over the catalogue; scrapers hammer one category
}

// Real-world strings (2024), weighted roughly like a European shop: ~60% mobile.
const HUMAN_AGENTS: [string, number][] = [
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    16,
  ],
  [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    5,
  ],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0', 4],
  ['Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 1],
  [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
    5,
  ],
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
    5,
  ],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
    20,
  ],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
    6,
  ],
  [
    'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    3,
  ],
  [
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    22,
  ],
  [
    'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
    6,
  ],
];
const HUMAN_AGENT_CUMULATIVE = cumulate(HUMAN_AGENTS.map(([, w]) => w));
const HUMAN_AGENT_STRINGS = HUMAN_AGENTS.map(([ua]) => ua);

/** Desktop Chrome: what a flood tool pretends to be. */
export const SPOOFED_BROWSER_AGENT = HUMAN_AGENTS[0][0];

// First octets of big consumer ISP allocations (EU/US); never private, loopback or multicast.
const ISP_OCTETS = [
  24, 31, 37, 46, 62, 68, 71, 73, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
  98, 99, 108, 109, 151, 176, 178, 188, 212, 213, 217,
];
// Cloud and hosting ranges that scrapers rent (GCP, AWS, DigitalOcean, Hetzner, OVH).
const HOSTING_PREFIXES = [
  '34.89',
  '35.204',
  '3.91',
  '18.195',
  '52.14',
  '159.89',
  '164.90',
  '95.216',
  '135.181',
  '51.91',
];

const BOT_FAMILIES: [BotClient['family'], number][] = [
  ['googlebot', 35],
  ['bingbot', 20],
  ['python-requests', 25],
  ['headless-chrome', 20],
];
const BOT_FAMILY_CUMULATIVE = cumulate(BOT_FAMILIES.map(([, w]) => w));

export const BOT_AGENTS: Record<BotClient['family'], string[]> = {
  googlebot: [
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.201 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  ],
  bingbot: ['Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)'],
  'python-requests': ['python-requests/2.31.0', 'python-requests/2.28.1'],
  'headless-chrome': [
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36',
  ],
};

interface Source {
  weight: number;
  referrer: string | null;
  utm: string[]; // candidate query strings; '' = organic
}

const SOURCES: Source[] = [
  { weight: 26, referrer: 'https://www.google.com/', utm: [''] },
  {
    weight: 9,
    referrer: 'https://www.google.com/',
    utm: ['?utm_source=google&utm_medium=cpc&utm_campaign=brand_search'],
  },
  { weight: 25, referrer: null, utm: [''] },
  {
    weight: 12,
    referrer: 'https://l.facebook.com/',
    utm: [
      '?utm_source=facebook&utm_medium=cpc&utm_campaign=autumn_sale',
      '?utm_source=facebook&utm_medium=cpc&utm_campaign=smartphones_retargeting',
    ],
  },
  {
    weight: 10,
    referrer: 'https://l.instagram.com/',
    utm: [
      '?utm_source=instagram&utm_medium=social&utm_campaign=new_arrivals',
      '?utm_source=instagram&utm_medium=social&utm_campaign=influencer_week&utm_content=story',
    ],
  },
  { weight: 8, referrer: null, utm: ['?utm_source=newsletter&utm_medium=email&utm_campaign=weekly_digest'] },
  { weight: 4, referrer: 'https://www.bing.com/', utm: [''] },
  {
    weight: 3,
    referrer: 'https://www.youtube.com/',
    utm: ['?utm_source=youtube&utm_medium=video&utm_campaign=review'],
  },
];
const SOURCE_CUMULATIVE = cumulate(SOURCES.map((s) => s.weight));

export function pickReferral(rng: Rng): Referral {
  const source = pickWeighted(rng, SOURCES, SOURCE_CUMULATIVE);
  return { referrer: source.referrer, query: pick(rng, source.utm) };
}

const visitorRng = reseedableRng(); // visitorFor runs to completion, so one generator serves all visitors

/** The visitor behind pool slot `index`; identical for the same (seed, index). */
export function visitorFor(seed: number, index: number): Visitor {
  const catalogue: Catalogue = buildCatalogue(seed);
  visitorRng.reseed(hashSeed(seed, 0x715, index));
  const rng = visitorRng.rng;
  const first = pickWeighted(rng, catalogue.categories, catalogue.categoryCumulative);
  const second = pickWeighted(rng, catalogue.categories, catalogue.categoryCumulative);
  const hasAccount = rng() < 0.3;
  const visitorId = String(500_000_000 + (((hashSeed(seed) % 50_000_000) + index * 3) % 400_000_000));
  return {
    visitorId,
    accountId: hasAccount ? visitorId : null,
    userAgent: pickWeighted(rng, HUMAN_AGENT_STRINGS, HUMAN_AGENT_CUMULATIVE),
    ip: consumerIp(rng),
    affinity: first === second || rng() < 0.4 ? [first] : [first, second],
    brand: rng() < 0.5 ? pick(rng, first.brands) : undefined,
    // Account holders convert better; the spread keeps some visitors window-shopping forever.
    propensity: (hasAccount ? 1.5 : 0.8) * (0.4 + rng() * 1.2),
  };
}

/**
 * A pool slot for a new session: low slots come back often (loyal customers), high slots
 * rarely (one-off visitors), which gives a realistic returning-visitor share.
 */
export const pickVisitorIndex = (rng: Rng, poolSize: number): number => Math.floor(poolSize * rng() ** 2.5);

/** The scrapers among the bot families: what a scraper wave sends. */
export const SCRAPER_FAMILIES: BotClient['family'][] = ['python-requests', 'headless-chrome'];

/** A bot client; `families` restricts the pick (e.g. to scrapers). */
export function botClient(rng: Rng, families?: BotClient['family'][]): BotClient {
  const family = families ? pick(rng, families) : pickWeighted(rng, BOT_FAMILIES, BOT_FAMILY_CUMULATIVE)[0];
  const userAgent = pick(rng, BOT_AGENTS[family]);
  const last = randInt(rng, 1, 254);
  switch (family) {
    case 'googlebot':
      return { family, userAgent, ip: `66.249.${randInt(rng, 64, 79)}.${last}`, crawler: true };
    case 'bingbot':
      return {
        family,
        userAgent,
        ip: `${pick(rng, ['157.55.39', '207.46.13', '40.77.167'])}.${last}`,
        crawler: true,
      };
    default:
      return { family, userAgent, ip: hostingIp(rng), crawler: false };
  }
}

export const consumerIp = (rng: Rng): string =>
  `${pick(rng, ISP_OCTETS)}.${randInt(rng, 0, 255)}.${randInt(rng, 0, 255)}.${randInt(rng, 1, 254)}`;

export const hostingIp = (rng: Rng): string =>
  `${pick(rng, HOSTING_PREFIXES)}.${randInt(rng, 0, 255)}.${randInt(rng, 1, 254)}`;

export function anonymousVisitorId(rng: Rng): string {
  // Clients without cookies (bots, flood tools) get a fresh id on every visit: 9xxxxxxxx keeps them apart.
  return String(900_000_000 + Math.floor(rng() * 99_999_999));
}
