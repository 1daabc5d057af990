/**
 * Keeping secrets out of sight: a channel's URL or token is shown once, when it is given, and never again.
 * Listings show a redacted form; error text from a send (which HTTP and SMTP libraries fill with URLs) is
 * cleaned of every secret before anyone logs or stores it.
 */

/** What stands where a secret was. */
export const MASK = '***';

/**
 * Channel settings that are secrets (the rest, such as a chat id or an address, is shown). A Telegram api_url is
 * one: a Bot API proxy's URL may carry a password or a token of its own.
 */
export const CHANNEL_SECRET_FIELDS = ['url', 'secret', 'bot_token', 'smtp_url', 'api_url'] as const;

/**
 * A URL with everything that may be a credential masked: user and password, query values (a bare item whole),
 * and the path past its first segment (the last masked whole, the ones between down to two characters), as in
 * `https://hooks.slack.com/services/T0…/B0…/***`. Scheme, host and port stay, so a person can tell channels apart.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return MASK;
  }
  const segments = url.pathname.split('/').filter((segment) => segment.length > 0);
  const path = segments
    .map((segment, i) => (i === segments.length - 1 ? MASK : i === 0 ? segment : `${segment.slice(0, 2)}…`))
    .join('/');
  // a bare item (`?TOKEN`, or `?TOKEN=`) is a value with no name: masked whole
  const query = [...url.searchParams.entries()]
    .map(([name, value]) => (value === '' ? MASK : `${name}=${MASK}`))
    .join('&');
  const user = url.username || url.password ? `${MASK}@` : '';
  return `${url.protocol}//${user}${url.host}${path ? `/${path}` : ''}${query ? `?${query}` : ''}`;
}

/**
 * A connection URL (DATABASE_URL, a replica's) as it may be shown to an operator: the server and database it
 * names as given, its password, in the user part or a `password` parameter, as `***`. A password holding an `@` is
 * masked whole (a URL's user part ends at its last `@`).
 */
export function withoutPassword(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    for (const name of [...url.searchParams.keys()])
      if (name.toLowerCase() === 'password') url.searchParams.set(name, '***');
    return url.toString();
  } catch {
    return text.replace(/\/\/[^/]*@/, '//***@');
  }
}

/** Shorter pieces than this are not masked on their own: they would mask ordinary words. */
const SHORTEST_SECRET = 4;

/** Every form in which a secret value may turn up in a library's error text: whole, encoded, and a URL's parts. */
export function secretFragments(values: readonly string[]): string[] {
  const fragments = new Set<string>();
  for (const value of values) {
    fragments.add(value);
    fragments.add(encodeURIComponent(value));
    fragments.add(encodeURI(value));
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url) continue;
    fragments.add(url.href);
    if (url.username || url.password) {
      const [user, password] = [safeDecode(url.username), safeDecode(url.password)];
      // HTTP Basic, and SMTP's AUTH PLAIN and AUTH LOGIN, which a hostile server may echo in its refusal
      fragments.add(basicCredentials(url));
      for (const sent of [`\u0000${user}\u0000${password}`, `${user}\u0000${user}\u0000${password}`, user, password])
        fragments.add(Buffer.from(sent).toString('base64'));
    }
    for (const part of [
      url.username,
      url.password,
      ...url.searchParams.values(),
      // bare query items (`?TOKEN`), and the last segment of the path with something in it (`/hooks/TOKEN/` too)
      ...[...url.searchParams.entries()].filter(([, item]) => item === '').map(([name]) => name),
      url.pathname
        .split('/')
        .filter((segment) => segment.length > 0)
        .at(-1) ?? '',
    ]) {
      fragments.add(part);
      fragments.add(safeDecode(part));
    }
  }
  return [...fragments]
    .filter((fragment) => fragment.length >= SHORTEST_SECRET)
    .sort((longer, shorter) => shorter.length - longer.length);
}

/** A URL's user and password as HTTP Basic credentials (base64 of "user:password"). */
export function basicCredentials(url: URL): string {
  return Buffer.from(`${safeDecode(url.username)}:${safeDecode(url.password)}`).toString('base64');
}

const safeDecode = (part: string): string => {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
};

/** `text` with every secret fragment (see secretFragments) replaced by the mask, longest first. */
export function redact(text: string, fragments: readonly string[]): string {
  let clean = text;
  for (const fragment of fragments) clean = clean.split(fragment).join(MASK);
  return clean;
}
