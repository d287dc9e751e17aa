import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

export interface HttpGetOptions {
  /** PEM bundle to trust (https); without it the server's certificate is not checked. */
  readonly ca?: string | Buffer;
  readonly token?: string;
  readonly timeoutMs?: number;
}

/**
 * A GET on a loopback http(s) URL. node:https rather than fetch, because the
 * cluster's servers present self-signed certificates that fetch cannot trust
 * per request.
 */
export function httpGet(url: string, opts: HttpGetOptions = {}): Promise<HttpResponse> {
  const target = new URL(url);
  const isHttps = target.protocol === 'https:';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return new Promise((resolveResponse, reject) => {
    const options = {
      method: 'GET',
      headers,
      timeout: opts.timeoutMs ?? 5_000,
      ...(isHttps ? (opts.ca ? { ca: opts.ca } : { rejectUnauthorized: false }) : {}),
    };
    const req = (isHttps ? httpsRequest : httpRequest)(target, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolveResponse({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}
