/** `zoho-token-store/testing`: the conformance kit any TokenStore can run from vitest. */
export { type ConformanceOptions, runTokenStoreConformance } from './conformance.js';
export { CLIENT, sampleToken } from './sample.js';
export { type Outcome, outcomeOf, ReferenceModel } from './model.js';
