/**
 * What other code imports by the package name (@schedmesh/reservation-service):
 * the app (start function, config schema, handle) for in-process tests,
 * benchmarks and composition. The process itself starts in main.ts.
 */
export { startReservation } from './app.js';
export type { ReservationApp } from './app.js';
export { reservationConfigSchema } from './config.js';
export type { ReservationConfig } from './config.js';
