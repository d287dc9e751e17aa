#!/usr/bin/env node
// The gateway service: REST/webhook plugins behind GatewayService.
import { runMain } from '@schedmesh/runtime';
import { startGatewayService } from './app.js';
import { gatewayConfigSchema } from './config.js';

void runMain('schedmesh-gateway', gatewayConfigSchema, (config) => startGatewayService(config));
