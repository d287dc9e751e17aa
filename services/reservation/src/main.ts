#!/usr/bin/env node
// The reservation service's entry point: configuration, then composition (app.ts).
import { runMain } from '@schedmesh/runtime';
import { startReservation } from './app.js';
import { reservationConfigSchema } from './config.js';

void runMain('schedmesh-reservation', reservationConfigSchema, (config) => startReservation(config));
