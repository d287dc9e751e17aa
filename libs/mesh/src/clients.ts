/**
 * The generated clients a scheduling attempt calls. Admission, reservation
 * and the gateway are optional: without them the attempt skips their steps
 * (a mesh that runs filterscore alone still ranks and binds).
 */
import type { AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import type { FilterScoreServiceDefinition } from '@schedmesh/proto/v1/filterscore';
import type { GatewayServiceDefinition } from '@schedmesh/proto/v1/gateway';
import type { ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import type { MeshCallOptions } from '@schedmesh/runtime';
import type { Client } from 'nice-grpc';

export type AdmissionClient = Client<AdmissionServiceDefinition, MeshCallOptions>;
export type FilterScoreClient = Client<FilterScoreServiceDefinition, MeshCallOptions>;
export type ReservationClient = Client<ReservationServiceDefinition, MeshCallOptions>;
export type GatewayClient = Client<GatewayServiceDefinition, MeshCallOptions>;

/** The services of the mesh, as generated clients. */
export interface MeshClients {
  readonly filterscore: FilterScoreClient;
  readonly admission?: AdmissionClient;
  readonly reservation?: ReservationClient;
  readonly gateway?: GatewayClient;
}
