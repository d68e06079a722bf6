import { V2 } from './bases.js';
import type { SdkFamily } from './types.js';

/** @zohocrm/nodejs-sdk-2.0 (6.x): CommonJS; `UserSignature.getEmail()`; a TokenStore class checked with instanceof. */
export const NODEJS_2: SdkFamily = {
  ...V2,
  name: 'nodejs-2',
  packageName: '@zohocrm/nodejs-sdk-2.0',
  signatureName: { method: 'getEmail' },
  marker: null,
};
