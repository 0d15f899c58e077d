import { describe, expect, it } from 'vitest';
import { findFormToken, formKind, tokenOfParsedBody } from '../../src/http/form-token.js';

const urlencoded = { type: 'urlencoded' } as const;
const multipart = (boundary: string) => ({ type: 'multipart', boundary }) as const;
const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('the _csrf form field', () => {
  it('recognises urlencoded and multipart content types, with quoted boundaries, and nothing else', () => {
    expect(formKind('application/x-www-form-urlencoded; charset=UTF-8')).toEqual(urlencoded);
    expect(formKind('multipart/form-data; boundary="a b"')).toEqual(multipart('a b'));
    expect(formKind('Multipart/Form-Data; boundary=xyz')).toEqual(multipart('xyz'));
    expect(formKind('multipart/form-data')).toBeNull();
    expect(formKind('application/json')).toBeNull();
    expect(formKind(undefined)).toBeNull();
  });

  it('finds _csrf in a urlencoded body, decoding it, and waits for a pair that may be cut short', () => {
    expect(findFormToken(bytes('a=1&_csrf=ab%2Dc&b=2'), urlencoded, true)).toBe('ab-c');
    expect(findFormToken(bytes('a=1&_csrf=ab'), urlencoded, false)).toBeUndefined();
    expect(findFormToken(bytes('a=1&_csrf=ab&'), urlencoded, false)).toBe('ab');
    expect(findFormToken(bytes('a=1&b=2'), urlencoded, true)).toBeNull();
    expect(findFormToken(bytes('_csrf&x=1'), urlencoded, true)).toBeNull();
    expect(findFormToken(bytes('_csrf=%E0%A4%A'), urlencoded, true)).toBeNull();
  });

  it('finds the _csrf part of a multipart body by its name, never by a filename, and waits for its end', () => {
    const body = ['--b', 'Content-Disposition: form-data; filename="_csrf"; name="upload"', '', 'file', '--b', 'content-disposition: form-data; name=_csrf', '', 'tok', '--b--', ''].join('\r\n');
    expect(findFormToken(bytes(body), multipart('b'), true)).toBe('tok');
    const cut = body.slice(0, body.indexOf('tok') + 2);
    expect(findFormToken(bytes(cut), multipart('b'), false)).toBeUndefined();
    expect(findFormToken(bytes(['--b', 'Content-Disposition: form-data; name="x"', '', '1', '--b--', ''].join('\r\n')), multipart('b'), false)).toBeNull();
  });

  it('reads _csrf from a parsed body: a string, a plain or null-prototype object, a @fastify/multipart field; never an array', () => {
    expect(tokenOfParsedBody('x=1&_csrf=t')).toBe('t');
    expect(tokenOfParsedBody({ _csrf: 't' })).toBe('t');
    expect(tokenOfParsedBody(Object.assign(Object.create(null) as object, { _csrf: 't' }))).toBe('t');
    expect(tokenOfParsedBody({ _csrf: { value: 't', fieldname: '_csrf' } })).toBe('t');
    expect(tokenOfParsedBody({ _csrf: ['t', 'u'] })).toBeUndefined();
    expect(tokenOfParsedBody(JSON.parse('{"__proto__": {"_csrf": "t"}}'))).toBeUndefined();
    expect(tokenOfParsedBody(null)).toBeUndefined();
  });
});
