import { describe, expect, test } from '@jest/globals';
import { CliError, ExitCode } from './exit.js';
import { podFromManifest } from './pod-file.js';

const yamlPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: { app: web }
spec:
  schedulerName: schedmesh
  tolerations: [{ key: dedicated, operator: Equal, value: gpu, effect: NoSchedule }]
  containers:
  - name: main
    image: nginx
    resources: { requests: { cpu: 500m, memory: 1Gi } }
`;

describe('podFromManifest', () => {
  test('YAML: converted at the edge, with the namespace and a uid filled in as the API server would', () => {
    const pod = podFromManifest(yamlPod, 'pod.yaml');
    expect(pod).toMatchObject({ name: 'web', namespace: 'default', schedulerName: 'schedmesh', labels: { app: 'web' } });
    expect(pod.uid).toMatch(/^dry-run-[0-9a-f-]{36}$/);
    expect(pod.requests).toMatchObject({ milliCpu: 500, memory: 1024 ** 3 });
    expect(pod.tolerations).toHaveLength(1);
  });

  test('JSON, with its own namespace and uid kept', () => {
    const pod = podFromManifest(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'j', namespace: 'shop', uid: 'u-1' }, spec: { containers: [{ name: 'c' }] } }), 'pod.json');
    expect(pod).toMatchObject({ name: 'j', namespace: 'shop', uid: 'u-1' });
  });

  test.each([
    ['not YAML', 'a: [1, 2', /pod.yaml: not valid YAML or JSON/],
    ['two documents', `${yamlPod}---\n${yamlPod}`, /expected one Pod, found 2 documents/],
    ['an empty file', '', /expected one Pod, found 0 documents/],
    ['a list', '- a\n- b\n', /expected a Pod object, got a list/],
    ['another kind', 'kind: Deployment\nmetadata: { name: d }\n', /kind: expected Pod, got "Deployment"/],
    ['no name', 'kind: Pod\nspec: { containers: [] }\n', /metadata.name: required/],
    ['a bad quantity', yamlPod.replace('500m', '5 cores'), /pod.yaml: Pod "default\/web": spec.containers\[0\].resources.requests\[cpu\]/],
  ])('%s is a usage error that names the file and the field', (_, text, message) => {
    let error: unknown;
    try {
      podFromManifest(text, 'pod.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(ExitCode.USAGE);
    expect((error as CliError).message).toMatch(message);
  });
});
