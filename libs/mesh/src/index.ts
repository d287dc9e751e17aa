/**
 * @schedmesh/mesh: the remote adapters and the one scheduling attempt shared
 * by the scheduler service and the extender adapter. Every reply of a mesh
 * service becomes a framework Status here, and minGeneration is threaded in
 * one place (the attempt).
 */
export { ADMISSION_PLUGIN, admit } from './adapters/admission.js';
export type { AdmissionOutcome } from './adapters/admission.js';
export { evaluate, FILTERSCORE_PLUGIN, findPreemptionCandidates, PREEMPTION_PLUGIN } from './adapters/filterscore.js';
export type { Evaluation, EvaluateOptions, PreemptionCandidate, PreemptionSearch, PreemptionSearchOptions, PreemptionVictim } from './adapters/filterscore.js';
export { GATEWAY_PLUGIN, GatewayPlugins } from './adapters/gateway.js';
export type { GatewayFilter, GatewayPatch, GatewayPluginsOptions } from './adapters/gateway.js';
export { confirm, permit, podRef, reserve, RESERVATION_PLUGIN, unreserve } from './adapters/reservation.js';
export type { ReservationStepOptions, ReserveOutcome } from './adapters/reservation.js';
export { coalescingReservationClient, DEFAULT_RESERVATION_BATCHING } from './adapters/reservation-batching.js';
export type { ReservationBatching } from './adapters/reservation-batching.js';
export { statusFrom, statusOf } from './adapters/status.js';
export { POD_GROUP_PLUGIN, SchedulingAttempt, selectHostFirst, traceIdOf } from './attempt.js';
export type { AttemptDeps, AttemptMode, BindToRequest, AttemptOutcome, AttemptRequest, AttemptResult, NodeLookup } from './attempt.js';
export type { AdmissionClient, FilterScoreClient, GatewayClient, MeshClients, ReservationClient } from './clients.js';
export { connectMesh, kubernetesConfigSchema, loadKubeConfig, meshServicesConfigShape } from './connect.js';
export type { ConnectedMesh, MeshServicesConfig } from './connect.js';
export { KubeApi, KubeApiError, PatchType, podPath } from './kube/api.js';
export type { KubeApiOptions, KubeResponse } from './kube/api.js';
export { LeaderElector } from './kube/leader-election.js';
export type { LeaderElectionOptions } from './kube/leader-election.js';
export { PodWriter } from './kube/pods.js';
export type { BindOutcome, MetadataPatch, PodEvent, PodIdentity, PodWriterOptions } from './kube/pods.js';
