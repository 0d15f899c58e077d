// A small stand-in for a browser over fetch: follows redirects itself (so it can keep cookies the
// way a browser does: per host name, shared across ports) and submits forms.
export interface Visit {
  status: number;
  url: string;
  text: string;
  headers: Headers;
  /** Every URL the visit went through, redirects included. */
  path: string[];
}

export class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  store(url: string, response: Response): void {
    const host = new URL(url).hostname;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a)) || value === '';
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
    this.cookies.set(host, jar);
  }

  header(url: string): string | undefined {
    const jar = this.cookies.get(new URL(url).hostname);
    if (!jar || jar.size === 0) return undefined;
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(host: string, name: string): string | undefined {
    return this.cookies.get(host)?.get(name);
  }

  set(host: string, name: string, value: string): void {
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    jar.set(name, value);
    this.cookies.set(host, jar);
  }

  delete(host: string, name: string): void {
    this.cookies.get(host)?.delete(name);
  }
}

/** Requests `url` and follows redirects (at most 20) as a browser would, keeping cookies in `jar`. */
export async function browse(jar: CookieJar, url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Visit> {
  let current = url;
  let method = init.method ?? 'GET';
  let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
  const path: string[] = [];
  for (let hop = 0; hop < 20; hop += 1) {
    path.push(current);
    const headers: Record<string, string> = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0' };
    const cookie = jar.header(current);
    if (cookie) headers.cookie = cookie;
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(current, { method, headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
    jar.store(current, response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.arrayBuffer();
      current = new URL(location, current).href;
      method = 'GET';
      body = undefined;
      continue;
    }
    return { status: response.status, url: current, text: await response.text(), headers: response.headers, path };
  }
  throw new Error(`too many redirects from ${url}`);
}

/** The action and fields of the first form of an HTML page (hidden inputs included). */
export function formOf(html: string, baseUrl: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no form in page: ${html.slice(0, 200)}`);
  const fields: Record<string, string> = {};
  for (const input of form[2]!.matchAll(/<input[^>]*>/gi)) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
    if (name) fields[name] = value;
  }
  return { action: new URL(form[1]!.replace(/&amp;/g, '&'), baseUrl).href, fields };
}

/** Logs in at the provider: starts at `startUrl`, fills the provider's form, returns the final page. */
export async function loginThrough(jar: CookieJar, startUrl: string, username: string, password: string): Promise<Visit> {
  const loginPage = await browse(jar, startUrl);
  if (loginPage.status !== 200) throw new Error(`expected the provider's login page, got ${loginPage.status} at ${loginPage.url}: ${loginPage.text.slice(0, 300)}`);
  const { action } = formOf(loginPage.text, loginPage.url);
  return browse(jar, action, { method: 'POST', form: { username, password } });
}

/** Signs out at the provider's end_session endpoint and confirms, which sends the back-channel logouts. */
export async function signOutAtProvider(jar: CookieJar, issuer: string): Promise<Visit> {
  const confirm = await browse(jar, `${issuer}/session/end`);
  if (confirm.status !== 200) throw new Error(`expected the provider's sign-out page, got ${confirm.status}: ${confirm.text.slice(0, 300)}`);
  const { action, fields } = formOf(confirm.text, confirm.url);
  return browse(jar, action, { method: 'POST', form: { ...fields, logout: 'yes' } });
}

/** Confirms the provider's sign-out page (the `end_session` prompt) and follows where it leads. */
export async function confirmSignOut(jar: CookieJar, confirm: Visit): Promise<Visit> {
  if (confirm.status !== 200) throw new Error(`expected the provider's sign-out page, got ${confirm.status}: ${confirm.text.slice(0, 300)}`);
  const { action, fields } = formOf(confirm.text, confirm.url);
  return browse(jar, action, { method: 'POST', form: { ...fields, logout: 'yes' } });
}
