#!/usr/bin/env node
// The schedmesh scheduler: binds pods whose schedulerName is one of its
// profiles, over the mesh, and serves SchedulerService.
import { runMain } from '@schedmesh/runtime';
import { startSchedulerApp } from './app.js';
import { schedulerConfigSchema } from './config.js';

void runMain('schedmesh-scheduler', schedulerConfigSchema, (config) => startSchedulerApp(config));
