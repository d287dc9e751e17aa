import { copyFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { makeTestPki } from '@schedmesh/testkit';
import type { TestPki } from '@schedmesh/testkit';
import { KubernetesAccessReviewer } from './access-review.js';

// An HTTPS endpoint in the API server's place (review L2 is about the client
// side's certificate files, which a real kube-apiserver would not let the test
// observe): it requires a client certificate signed by the test CA and answers
// each SubjectAccessReview "allowed" only for the identity `tenant-new`.
let pki: TestPki;
let server: Server;
let port = 0;
const seen: string[] = [];

beforeAll(async () => {
  pki = makeTestPki('sar-ca');
  server = createServer(
    { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey), ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const cn = String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      seen.push(cn);
      req.resume();
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', status: { allowed: cn === 'tenant-new' } }));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  pki.remove();
});

test('a client certificate rotated on disk is used by the next review, without a restart (review L2)', async () => {
  const old = pki.issue('tenant-old');
  const rotated = pki.issue('tenant-new');
  // The files a kubeconfig names, as a mounted Secret would hold them.
  const certFile = `${pki.dir}/sar-client.crt`;
  const keyFile = `${pki.dir}/sar-client.key`;
  copyFileSync(old.cert, certFile);
  copyFileSync(old.key, keyFile);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caFile: pki.caCert, skipTLSVerify: false }],
    users: [{ name: 'u', certFile, keyFile }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  const reviewer = new KubernetesAccessReviewer({ kubeConfig, timeoutMs: 10_000 });
  const question = { user: 'system:serviceaccount:a:b', groups: [], resource: 'nodepools', name: 'pool-0', namespace: 'a' };
  const never = new AbortController().signal;
  try {
    expect(await reviewer.review(question, never)).toBe(false);
    copyFileSync(rotated.cert, certFile);
    copyFileSync(rotated.key, keyFile);
    expect(await reviewer.review(question, never)).toBe(true);
    expect(seen).toEqual(['tenant-old', 'tenant-new']);
  } finally {
    reviewer.close();
  }
});
