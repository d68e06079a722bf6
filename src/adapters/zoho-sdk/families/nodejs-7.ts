import { NODEJS_V7 } from './bases.js';
import type { SdkFamily } from './types.js';

/** @zohocrm/nodejs-sdk-7.0 (4.x): ESM `lib/`; no Constants.SDK_NAME, so it is told apart by its CRM API version. */
export const NODEJS_7: SdkFamily = {
  ...NODEJS_V7,
  name: 'nodejs-7',
  packageName: '@zohocrm/nodejs-sdk-7.0',
  signatureName: null,
  marker: { crmApi: 'v7' },
};
