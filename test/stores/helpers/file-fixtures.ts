// The token files written by Zoho's own SDKs (/work/shared/fixtures, or FIXTURES_DIR) and every
// field of every row, written out by hand. Tests copy a fixture into their own folder first:
// the originals are never handed to a store.
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredToken } from '../../../src/token.js';

export const FIXTURES_DIR = process.env.FIXTURES_DIR ?? '/work/shared/fixtures';
export const fixturesAvailable = existsSync(join(FIXTURES_DIR, 'typescript-sdk-8.0_sdk_tokens.txt'));

const CLIENT_ID = '1000.ABCDEFGHIJKLMNOPQRSTUVWXYZ1234';
const CLIENT_SECRET = '0123456789abcdef0123456789abcdef0123456789';

export interface Fixture {
  file: string;
  tokens: StoredToken[];
}

export const FIXTURES: Record<'python' | 'typescript' | 'legacy', Fixture> = {
  python: {
    file: 'python-sdk-8.0_sdk_tokens.txt',
    tokens: [
      {
        id: '1',
        userName: 'alice@zylker.com:60012345',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        refreshToken: '1000.3f1c0a7e9b2d4c6e8a0b1c2d3e4f5a6b.0a1b2c3d4e5f60718293a4b5c6d7e8f9',
        accessToken: '1000.9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b.1122334455667788990011223344556677',
        expiryTime: 1767225600001,
        redirectUrl: 'https://app.example.com/callback',
        apiDomain: 'https://www.zohoapis.com',
      },
      {
        id: '2',
        userName: 'bob@zylker.com:60012345',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        refreshToken: '1000.aaaabbbbccccddddeeeeffff00001111.2222333344445555666677778888999a',
        accessToken: '1000.bbbbccccddddeeeeffff000011112222.33334444555566667777888899990000',
        expiryTime: 1767225600002,
        redirectUrl: 'https://app.example.com/cb?tenant=eu,west',
        apiDomain: 'https://www.zohoapis.eu',
      },
      {
        id: '3',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        refreshToken: '1000.ccccddddeeeeffff0000111122223333.44445555666677778888999900001111',
        apiDomain: 'https://www.zohoapis.in',
      },
    ],
  },
  typescript: {
    file: 'typescript-sdk-8.0_sdk_tokens.txt',
    tokens: [
      {
        id: '1',
        userName: 'carol@zylker.com:60054321',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        refreshToken: '1000.0123456789abcdef0123456789abcdef.fedcba9876543210fedcba9876543210',
        accessToken: '1000.abcdefabcdefabcdefabcdefabcdefab.cdefabcdefabcdefabcdefabcdefabcd',
        expiryTime: 1767225600003,
        redirectUrl: 'https://app.example.com/callback',
        apiDomain: 'https://www.zohoapis.com',
      },
      {
        id: '2',
        userName: 'dave@zylker.com:60054321',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        refreshToken: '1000.11112222333344445555666677778888.99990000aaaabbbbccccddddeeeeffff',
        accessToken: '1000.22223333444455556666777788889999.0000aaaabbbbccccddddeeeeffff1111',
        expiryTime: 1767225600004,
        apiDomain: 'https://www.zohoapis.com.au',
      },
      {
        id: '3',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        refreshToken: '1000.33334444555566667777888899990000.aaaabbbbccccddddeeeeffff11112222',
        apiDomain: 'https://www.zohoapis.jp',
      },
    ],
  },
  legacy: {
    file: 'legacy-9-column_sdk_tokens.txt',
    tokens: [
      {
        id: '1',
        userName: 'erin@zylker.com',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        refreshToken: '1000.44445555666677778888999900001111.bbbbccccddddeeeeffff000011112222',
        accessToken: '1000.55556666777788889999000011112222.ccccddddeeeeffff0000111122223333',
        expiryTime: 1767225600005,
        redirectUrl: 'https://app.example.com/callback',
      },
    ],
  },
};

/** Copies a fixture into `dir` and returns the copy's path. */
export function copyFixture(fixture: Fixture, dir: string, name = fixture.file): string {
  const target = join(dir, name);
  copyFileSync(join(FIXTURES_DIR, fixture.file), target);
  return target;
}
