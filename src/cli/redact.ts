/**
 * A store URL fit for a console or a report: the password of `user:password@`, and the values of
 * query parameters that carry secrets (`password`, `sslpassword`, `token`, `key`, `secret`, …),
 * are replaced by `***`. Works on URLs the WHATWG parser refuses too (`redis+cluster://a:1,b:2`).
 *
 * @example redactStoreUrl('postgres://app:s3cret@db:5432/sessions') // 'postgres://app:***@db:5432/sessions'
 */
export function redactStoreUrl(url: string): string {
  return url
    // user:password@ in the authority (the user name stays: it helps to diagnose)
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_all, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return colon === -1 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
    })
    .replace(/([?&;](?:[a-z_]*pass(?:word)?|[a-z_]*secret|[a-z_]*token|[a-z_]*key|auth)=)[^&;#]*/gi, '$1***');
}
