// A Prometheus /metrics page over HTTPS, as text: kube-scheduler's (self-signed
// serving certificate, /metrics always allowed) or the apiserver's (its CA and
// a bearer token).
import { request } from 'node:https';

/** How to reach a /metrics page: the CA that signed the server's certificate (absent: not verified) and a bearer token. */
export interface MetricsAccess {
  readonly caPem?: string;
  readonly token?: string;
}

/** GETs `url` and resolves with its body; anything but 200 rejects. */
export function fetchMetricsText(url: string, access: MetricsAccess = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ...(access.caPem ? { ca: access.caPem } : { rejectUnauthorized: false }),
        ...(access.token ? { headers: { authorization: `Bearer ${access.token}` } } : {}),
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`GET ${url}: HTTP ${res.statusCode}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}
