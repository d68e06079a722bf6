import { V2 } from './bases.js';
import { mainExport, type SdkFamily } from './types.js';

/** @zohocrm/typescript-sdk-2.1 (1.x): CommonJS `dist/`, every class on the main entry; `UserSignature.getEmail()`; TokenStore a TS interface. */
export const TS_2_1: SdkFamily = {
  ...V2,
  name: 'ts-2.1',
  packageName: '@zohocrm/typescript-sdk-2.1',
  signatureName: { method: 'getEmail' },
  classes: { OAuthToken: mainExport('OAuthToken'), UserSignature: mainExport('UserSignature'), SDKException: mainExport('SDKException') },
  marker: { sdkName: 'typescript-2.1' },
};
