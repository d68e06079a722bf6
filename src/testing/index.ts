/** `zoho-token-store/testing`: the conformance kit any TokenStore can run from vitest. */
export { CLIENT, type ConformanceOptions, runTokenStoreConformance, sampleToken } from './conformance.js';
export { type Outcome, outcomeOf, ReferenceModel } from './model.js';
