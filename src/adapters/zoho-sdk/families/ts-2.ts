import { V2 } from './bases.js';
import type { SdkFamily } from './types.js';

/**
 * @zohocrm/typescript-sdk-2.0 (7.x): CommonJS, compiled next to its sources (no `dist/`);
 * `UserSignature.getName()`; TokenStore is a TS interface (no instanceof).
 */
export const TS_2: SdkFamily = {
  ...V2,
  name: 'ts-2',
  packageName: '@zohocrm/typescript-sdk-2.0',
  signatureName: { method: 'getName' },
  classes: { OAuthToken: V2.classes.OAuthToken, UserSignature: V2.classes.UserSignature, SDKException: V2.classes.SDKException },
  marker: { sdkName: 'typescript-2.0' },
};
