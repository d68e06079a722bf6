import { TYPESCRIPT_V6 } from './bases.js';
import type { SdkFamily } from './types.js';

/** @zohocrm/typescript-sdk-8.0 (3.x). */
export const TS_8: SdkFamily = {
  ...TYPESCRIPT_V6,
  name: 'ts-8',
  packageName: '@zohocrm/typescript-sdk-8.0',
  signatureName: null,
  marker: { sdkName: 'typescript-8.0' },
};
