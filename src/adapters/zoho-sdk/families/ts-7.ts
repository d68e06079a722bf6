import { TYPESCRIPT_V6 } from './bases.js';
import type { SdkFamily } from './types.js';

/** @zohocrm/typescript-sdk-7.0 (2.x). */
export const TS_7: SdkFamily = {
  ...TYPESCRIPT_V6,
  name: 'ts-7',
  packageName: '@zohocrm/typescript-sdk-7.0',
  signatureName: null,
  marker: { sdkName: 'typescript-7.0' },
};
