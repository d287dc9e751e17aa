#!/usr/bin/env node
// The filterscore service: the scheduling framework's Filter/Score over a
// local replica of the snapshot, served over gRPC.
import { runMain } from '@schedmesh/runtime';
import { startFilterScoreApp } from './app.js';
import { filterScoreConfigSchema } from './config.js';

void runMain('schedmesh-filterscore', filterScoreConfigSchema, (config) => startFilterScoreApp(config));
