#!/usr/bin/env node
// The informer bridge: Kubernetes watches (or a fixture file) → the cluster stream on NATS JetStream.
//   schedmesh-informer [--fixture FILE]
import { runMain } from '@schedmesh/runtime';
import { startInformerApp } from './app.js';
import { informerConfigSchema } from './config.js';

void runMain('schedmesh-informer', informerConfigSchema, (config) => startInformerApp(config), { flags: { fixture: 'source.fixture' } });
