import { NODEJS_V7 } from './bases.js';
import type { SdkFamily } from './types.js';

/** @zohocrm/nodejs-sdk-8.0 (2.x): ESM `lib/`; no Constants.SDK_NAME, so it is told apart by its CRM API version. */
export const NODEJS_8: SdkFamily = {
  ...NODEJS_V7,
  name: 'nodejs-8',
  packageName: '@zohocrm/nodejs-sdk-8.0',
  signatureName: null,
  marker: { crmApi: 'v8' },
};
