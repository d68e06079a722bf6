/** Every supported family, newest first (the order of "npm install" suggestions). */
import { NODEJS_2 } from './nodejs-2.js';
import { NODEJS_7 } from './nodejs-7.js';
import { NODEJS_8 } from './nodejs-8.js';
import { TS_2 } from './ts-2.js';
import { TS_2_1 } from './ts-2.1.js';
import { TS_6 } from './ts-6.js';
import { TS_7 } from './ts-7.js';
import { TS_8 } from './ts-8.js';
import type { SdkFamily, ZohoSdkFamilyName } from './types.js';
import { ZCRMSDK_1 } from './zcrmsdk-1.js';

export type { SdkFamily, ZohoSdkFamilyName } from './types.js';

export const SDK_FAMILIES: readonly SdkFamily[] = [TS_8, NODEJS_8, TS_7, NODEJS_7, TS_6, TS_2_1, TS_2, NODEJS_2, ZCRMSDK_1];

export function familyNamed(name: ZohoSdkFamilyName): SdkFamily | undefined {
  return SDK_FAMILIES.find((f) => f.name === name);
}
