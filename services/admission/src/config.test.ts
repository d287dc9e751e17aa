import { describe, expect, test } from '@jest/globals';
import { ConfigError, loadConfig } from '@schedmesh/runtime';
import { admissionConfigSchema } from './config.js';

describe('admission configuration', () => {
  test('defaults: hibernation on, fail-safe review budget, a bounded cache', () => {
    const config = loadConfig(admissionConfigSchema, { env: {} });
    expect(config.features.hibernation).toBe(true);
    expect(config.hibernation.appLabels).toEqual(['app.kubernetes.io/name', 'app']);
    expect(config.kubernetes).toMatchObject({ accessReviews: true, reviewTimeout: 2_000, cacheTtl: 30_000, cacheMaxEntries: 10_000 });
    expect(config.gateway).toEqual({ deadline: 2_000 });
    expect(config.minGeneration).toEqual({ maxWait: 10_000 });
    expect(config.labels.pool).toBe('schedmesh.io/node-pool');
    expect(config.hostPath.whenNoPolicy).toBe('deny');
  });

  test('environment variables, with units and lists', () => {
    const config = loadConfig(admissionConfigSchema, {
      env: {
        SCHEDMESH_FEATURES__HIBERNATION: 'false',
        SCHEDMESH_HIBERNATION__APP_LABELS: 'team/app, app',
        SCHEDMESH_KUBERNETES__CACHE_TTL: '5m',
        SCHEDMESH_GATEWAY__ADDRESS: 'gateway:50051',
        SCHEDMESH_GATEWAY__DEADLINE: '500ms',
        SCHEDMESH_MIN_GENERATION__MAX_WAIT: '3s',
        SCHEDMESH_HOST_PATH__WHEN_NO_POLICY: 'allow',
      },
    });
    expect(config.hostPath.whenNoPolicy).toBe('allow');
    expect(config.features.hibernation).toBe(false);
    expect(config.hibernation.appLabels).toEqual(['team/app', 'app']);
    expect(config.kubernetes.cacheTtl).toBe(300_000);
    expect(config.gateway).toEqual({ address: 'gateway:50051', deadline: 500 });
    expect(config.minGeneration.maxWait).toBe(3_000);
  });

  test('an invalid or unknown key stops start-up, naming it', () => {
    expect(() => loadConfig(admissionConfigSchema, { env: { SCHEDMESH_KUBERNETES__CACHE_TTL: 'soon' } })).toThrow(/kubernetes\.cacheTtl: expected a duration .*\(from SCHEDMESH_KUBERNETES__CACHE_TTL\)/);
    expect(() => loadConfig(admissionConfigSchema, { env: { SCHEDMESH_FEATURES__HIBERNATE: 'true' } })).toThrow(ConfigError);
    expect(() => loadConfig(admissionConfigSchema, { env: { SCHEDMESH_HOST_PATH__WHEN_NO_POLICY: 'sometimes' } })).toThrow(/hostPath\.whenNoPolicy: .*\(from SCHEDMESH_HOST_PATH__WHEN_NO_POLICY\)/);
  });
});
