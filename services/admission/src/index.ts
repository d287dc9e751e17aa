/**
 * What other code imports by the package name (@schedmesh/admission-service):
 * the app (start function, config schema, handle) for in-process tests,
 * benchmarks and composition, and the domain pieces the end-to-end RBAC test
 * drives against a real API server. The process itself starts in main.ts.
 */
export { CachedAccessReviewer, KubernetesAccessReviewer, serviceAccountSubject } from './access-review.js';
export type { AccessQuestion } from './access-review.js';
export { Admitter } from './admission.js';
export { startAdmissionApp } from './app.js';
export type { AdmissionApp } from './app.js';
export { admissionConfigSchema } from './config.js';
export type { AdmissionConfig } from './config.js';
export { PolicyStore } from './policy-store.js';
export { Reason } from './reasons.js';
export { GatewayWebhooks } from './webhook.js';
