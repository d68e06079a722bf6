import { MemoryStore } from '../../src/stores/memory.js';
import { runTokenStoreConformance } from '../../src/testing/index.js';

runTokenStoreConformance({ name: 'MemoryStore', create: () => new MemoryStore() });
