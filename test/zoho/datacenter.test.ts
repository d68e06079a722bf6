import { describe, expect, it } from 'vitest';
import { ZTokenError } from '../../src/errors.js';
import {
  accountsUrlFor,
  apiDomainFor,
  DATA_CENTERS,
  type DataCenter,
  dataCenterOfAccountsUrl,
  dataCenterOfApiDomain,
  describeApiDomain,
  parseDataCenter,
  parseEnvironment,
} from '../../src/zoho/datacenter.js';

const TABLE: [DataCenter, string, string][] = [
  ['US', 'https://accounts.zoho.com', 'https://www.zohoapis.com'],
  ['EU', 'https://accounts.zoho.eu', 'https://www.zohoapis.eu'],
  ['IN', 'https://accounts.zoho.in', 'https://www.zohoapis.in'],
  ['CN', 'https://accounts.zoho.com.cn', 'https://www.zohoapis.com.cn'],
  ['JP', 'https://accounts.zoho.jp', 'https://www.zohoapis.jp'],
  ['AU', 'https://accounts.zoho.com.au', 'https://www.zohoapis.com.au'],
  ['CA', 'https://accounts.zohocloud.ca', 'https://www.zohoapis.ca'],
  ['SA', 'https://accounts.zoho.sa', 'https://www.zohoapis.sa'],
];

describe('data centers (ZOHO.md table)', () => {
  it('lists exactly the eight DCs', () => {
    expect([...DATA_CENTERS]).toEqual(TABLE.map(([dc]) => dc));
  });

  it.each(TABLE)('%s: accounts %s, API %s, sandbox and developer hosts', (dc, accounts, api) => {
    expect(accountsUrlFor(dc)).toBe(accounts);
    expect(apiDomainFor(dc)).toBe(api);
    expect(apiDomainFor(dc, 'production')).toBe(api);
    expect(apiDomainFor(dc, 'sandbox')).toBe(api.replace('://www.', '://sandbox.'));
    expect(apiDomainFor(dc, 'developer')).toBe(api.replace('://www.', '://developer.'));
    expect(dataCenterOfApiDomain(api)).toBe(dc);
    expect(dataCenterOfApiDomain(apiDomainFor(dc, 'sandbox'))).toBe(dc);
    expect(describeApiDomain(apiDomainFor(dc, 'developer'))).toEqual({ dataCenter: dc, environment: 'developer' });
    expect(dataCenterOfAccountsUrl(accounts)).toBe(dc);
  });

  it('spells out sandbox and developer domains', () => {
    expect(apiDomainFor('AU', 'sandbox')).toBe('https://sandbox.zohoapis.com.au');
    expect(apiDomainFor('CN', 'developer')).toBe('https://developer.zohoapis.com.cn');
    expect(apiDomainFor('CA', 'sandbox')).toBe('https://sandbox.zohoapis.ca');
  });

  it('parses DC codes case-insensitively, including Zoho redirect locations', () => {
    expect(parseDataCenter('eu')).toBe('EU');
    expect(parseDataCenter(' us ')).toBe('US');
    expect(parseDataCenter('Sa')).toBe('SA');
    expect(accountsUrlFor('jp' as DataCenter)).toBe('https://accounts.zoho.jp');
  });

  it('rejects an unknown DC with a CONFIG error listing the valid ones', () => {
    let caught: unknown;
    try {
      parseDataCenter('UK');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ZTokenError);
    const err = caught as ZTokenError;
    expect(err.code).toBe('CONFIG');
    expect(err.reason).toBe('INVALID_DATA_CENTER');
    expect(err.message).toBe('Unknown Zoho data center "UK": expected one of US, EU, IN, CN, JP, AU, CA, SA');
    expect(() => parseDataCenter(undefined)).toThrow(/expected one of US, EU/);
    expect(() => apiDomainFor('XX' as DataCenter)).toThrow(ZTokenError);
  });

  it('parses environments and rejects unknown ones', () => {
    expect(parseEnvironment('Sandbox')).toBe('sandbox');
    expect(() => parseEnvironment('staging')).toThrow('Unknown Zoho environment "staging": expected one of production, sandbox, developer');
    expect(() => apiDomainFor('US', 'staging' as never)).toThrow(ZTokenError);
  });

  it('reverse lookup: null for non-Zoho domains, bare hosts accepted', () => {
    expect(dataCenterOfApiDomain('www.zohoapis.in')).toBe('IN');
    expect(dataCenterOfApiDomain('https://WWW.ZOHOAPIS.EU/')).toBe('EU');
    expect(dataCenterOfApiDomain('https://www.zohoapis.co.uk')).toBeNull();
    expect(dataCenterOfApiDomain('http://127.0.0.1:8080')).toBeNull();
    expect(dataCenterOfApiDomain('not a url at all')).toBeNull();
    expect(dataCenterOfApiDomain('')).toBeNull();
    expect(dataCenterOfAccountsUrl('https://accounts.zoho.com.cn')).toBe('CN');
    expect(dataCenterOfAccountsUrl('https://example.com')).toBeNull();
  });
});
