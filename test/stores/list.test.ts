import { describe, expect, it } from 'vitest';
import { ListStore } from '../../src/stores/list.js';
import { runTokenStoreConformance, sampleToken } from '../../src/testing/index.js';

runTokenStoreConformance({ name: 'ListStore', create: () => new ListStore() });

describe('ListStore records', () => {
  it('keeps each token as an array of Zoho columns, as the seed does', async () => {
    const store = new ListStore();
    await store.saveToken(sampleToken('alice', { expiryTime: 1767225600001 }));
    expect(store.records).toEqual([
      [
        '1',
        'alice',
        '1000.CONFORMANCECLIENT00000000000000',
        'conformance-secret-0123456789abcdef',
        '1000.refresh.alice.aaaabbbbccccdddd',
        '1000.access.alice.eeeeffff00001111',
        null,
        '1767225600001',
        'https://app.example.com/callback',
        'https://www.zohoapis.com',
      ],
    ]);
  });
});
