#!/usr/bin/env node
// The snapshot service: the cluster stream → NodeInfo, served over gRPC.
import { runMain } from '@schedmesh/runtime';
import { startSnapshotApp } from './app.js';
import { snapshotConfigSchema } from './config.js';

void runMain('schedmesh-snapshot', snapshotConfigSchema, (config) => startSnapshotApp(config));
