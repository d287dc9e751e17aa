import { expect, test } from '@jest/globals';
import { kubeRoute } from './api.js';

// Span names must not carry namespaces or object names: one name per kind of write.
test.each([
  ['/api/v1/namespaces/team-a/pods/web-0/binding', 'pods/binding'],
  ['/api/v1/namespaces/team-a/pods/web-0/eviction', 'pods/eviction'],
  ['/api/v1/namespaces/team-a/pods/web-0', 'pods'],
  ['/api/v1/namespaces/team-a/events', 'events'],
  ['/api/v1/nodes/node-1', 'nodes'],
  ['/api/v1/nodes/node-1/status', 'nodes/status'],
  ['/apis/events.k8s.io/v1/namespaces/team-a/events', 'events'],
  ['/apis/schedmesh.io/v1alpha1/admissionpolicies/lockdown', 'admissionpolicies'],
  ['/api/v1/namespaces/team-a/pods/web-0/status?fieldManager=schedmesh', 'pods/status'],
])('%s is %s', (path, route) => expect(kubeRoute(path)).toBe(route));
