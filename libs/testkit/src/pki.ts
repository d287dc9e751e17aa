import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Paths of a throw-away PKI made for one test: a CA, a server and a client certificate. */
export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** Issues another certificate signed by this CA (e.g. a second client). */
  issue(name: string, options?: { serverNames?: string[] }): { cert: string; key: string };
  /** Deletes the files. */
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Makes a CA and certificates with the real openssl CLI (ECDSA P-256), for
 * mTLS tests. The server certificate is valid for localhost and 127.0.0.1.
 */
export function makeTestPki(caName = 'schedmesh-test-ca'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'schedmesh-pki-'));
  const caKey = join(dir, `${caName}.key`);
  const caCert = join(dir, `${caName}.crt`);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey], dir);
  openssl(['req', '-x509', '-new', '-key', caKey, '-sha256', '-days', '2', '-subj', `/CN=${caName}`, '-out', caCert], dir);

  const issue = (name: string, options: { serverNames?: string[] } = {}): { cert: string; key: string } => {
    const key = join(dir, `${name}.key`);
    const csr = join(dir, `${name}.csr`);
    const cert = join(dir, `${name}.crt`);
    const ext = join(dir, `${name}.ext`);
    const sans = options.serverNames ?? [];
    writeFileSync(
      ext,
      [
        'basicConstraints=CA:FALSE',
        `extendedKeyUsage=${sans.length ? 'serverAuth,clientAuth' : 'clientAuth'}`,
        ...(sans.length ? [`subjectAltName=${sans.map((s) => (/^[\d.]+$/.test(s) ? `IP:${s}` : `DNS:${s}`)).join(',')}`] : []),
      ].join('\n'),
    );
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key], dir);
    openssl(['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr], dir);
    openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', ext, '-out', cert], dir);
    return { cert, key };
  };

  const server = issue('server', { serverNames: ['localhost', '127.0.0.1'] });
  const client = issue('client');
  return {
    dir,
    caCert,
    caKey,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    issue,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
