import { REDACTED, SENSITIVE_HEADERS, createQueryRedactor, redactUrl, redactUrlsIn } from '../../src/internal/redact';

describe('createQueryRedactor', () => {
  const redact = createQueryRedactor(['token', 'api_key', 'X-Amz-Signature']);

  it('replaces the values of the named parameters, case-insensitively, and leaves the rest byte for byte', () => {
    expect(redact('q=llm&token=abc&TOKEN=def&Api_Key=1&page=2')).toBe('q=llm&token=REDACTED&TOKEN=REDACTED&Api_Key=REDACTED&page=2');
    expect(redact('x-amz-signature=sig%2Fx&a=%E2%9C%93')).toBe('x-amz-signature=REDACTED&a=%E2%9C%93');
  });

  it('matches names written percent-encoded or with +, and keeps a name without a value as it is', () => {
    expect(redact('%74oken=secret&api%5Fkey=s2&tok+en=kept')).toBe('%74oken=REDACTED&api%5Fkey=REDACTED&tok+en=kept');
    expect(redact('token&token=&q')).toBe('token&token=REDACTED&q');
  });

  it('keeps a malformed escape as it came, still matching the raw name', () => {
    expect(redact('%zz=1&token=2')).toBe('%zz=1&token=REDACTED');
  });

  it('gives back an empty query, trailing and repeated separators unchanged', () => {
    expect(redact('')).toBe('');
    expect(redact('a=1&&token=2&')).toBe('a=1&&token=REDACTED&');
  });
});

describe('redactUrl', () => {
  const redact = createQueryRedactor(['sig']);

  it('replaces credentials in the userinfo and sensitive query values, keeping the rest', () => {
    expect(redactUrl(new URL('https://user:pw@api.example.com:8443/v1/x?sig=abc&a=1#frag'), redact)).toBe(
      `https://${REDACTED}:${REDACTED}@api.example.com:8443/v1/x?sig=REDACTED&a=1#frag`,
    );
    expect(redactUrl(new URL('http://api.example.com/'), redact)).toBe('http://api.example.com/');
  });
});

describe('redactUrlsIn', () => {
  const redact = createQueryRedactor(['key']);

  it('redacts every URL inside free text (an error message or stack)', () => {
    expect(redactUrlsIn('Request to http://u:p@h.test/a?key=1 failed; see "https://h.test/b?key=2"', redact)).toBe(
      `Request to http://${REDACTED}:${REDACTED}@h.test/a?key=REDACTED failed; see "https://h.test/b?key=REDACTED"`,
    );
    expect(redactUrlsIn('no urls here', redact)).toBe('no urls here');
  });

  it('keeps nothing of what looks like a URL but does not parse', () => {
    expect(redactUrlsIn('bad http://[::1 here', redact)).toBe(`bad ${REDACTED} here`);
  });
});

describe('SENSITIVE_HEADERS', () => {
  it('lists the headers never recorded', () => {
    expect([...SENSITIVE_HEADERS].sort()).toEqual(['api-key', 'authorization', 'cookie', 'proxy-authorization', 'set-cookie', 'x-api-key']);
  });
});
