import { TYPESCRIPT_V6 } from './bases.js';
import type { SdkFamily } from './types.js';

/** @zohocrm/typescript-sdk-6.0 (3.x). */
export const TS_6: SdkFamily = {
  ...TYPESCRIPT_V6,
  name: 'ts-6',
  packageName: '@zohocrm/typescript-sdk-6.0',
  signatureName: null,
  marker: { sdkName: 'typescript-6.0' },
};
