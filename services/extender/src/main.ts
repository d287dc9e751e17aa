#!/usr/bin/env node
// The schedmesh extender: kube-scheduler's HTTP extender protocol over the mesh.
import { runMain } from '@schedmesh/runtime';
import { startExtenderApp } from './app.js';
import { extenderConfigSchema } from './config.js';

void runMain('schedmesh-extender', extenderConfigSchema, (config) => startExtenderApp(config));
