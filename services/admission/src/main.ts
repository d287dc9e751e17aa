#!/usr/bin/env node
// The admission service: AdmissionPolicy objects from the cluster stream →
// Admit decisions at PreFilter, served over gRPC.
import { runMain } from '@schedmesh/runtime';
import { startAdmissionApp } from './app.js';
import { admissionConfigSchema } from './config.js';

void runMain('schedmesh-admission', admissionConfigSchema, (config) => startAdmissionApp(config));
