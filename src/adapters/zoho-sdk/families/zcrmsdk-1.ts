import { V2, V2_FILES } from './bases.js';
import type { SdkFamily } from './types.js';

/**
 * zcrmsdk 1.x (the old Node SDK; 0.x is a different SDK, ZCRMRestClient, not supported): CommonJS;
 * tokens are plain properties (`clientID`, `userMail`, `expiresIn`); `UserSignature.email`; no
 * getTokenById; a TokenStore class checked with instanceof; its FileStore has 6 columns and no id.
 */
export const ZCRMSDK_1: SdkFamily = {
  ...V2,
  name: 'zcrmsdk-1',
  packageName: 'zcrmsdk',
  shape: 'properties',
  getTokenById: false,
  signatureName: { property: 'email' },
  classes: V2_FILES,
  layout: 'zcrmsdk',
  marker: null,
};
