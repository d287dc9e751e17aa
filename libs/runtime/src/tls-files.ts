import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { experimental } from '@grpc/grpc-js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';

/** Re-read interval of TLS files when the configuration names none: well inside a kubelet Secret refresh. */
export const DEFAULT_TLS_RELOAD_MS = 30_000;

/** The PEM files of one end of a TLS connection. */
export interface PemFiles {
  /** Certificate chain presented to the peer (with keyFile). */
  certFile?: string | undefined;
  /** Private key of certFile (with certFile). */
  keyFile?: string | undefined;
  /** CA bundle that verifies the peer. */
  caFile?: string | undefined;
}

/** Options of {@link ReloadingPemFiles}. */
export interface ReloadingPemFilesOptions extends PemFiles {
  /** How often the files are read again while a server or channel uses them (default {@link DEFAULT_TLS_RELOAD_MS}). */
  reloadIntervalMs?: number | undefined;
  /** Where reloads and unusable files are reported (no key material is logged). */
  logger?: Logger | undefined;
}

interface PemContent {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
}

/**
 * A grpc-js certificate provider over PEM files that picks up rotated files
 * without a restart: while a server or channel uses it, it re-reads them every
 * interval and hands changed content to gRPC, which uses it for every new
 * handshake (established connections keep theirs).
 *
 * Unlike grpc-js's own FileWatcherCertificateProvider it keeps the last good
 * material when a read fails or the new files do not form a valid pair (a
 * rotation caught half-written, a key from one Secret version and a
 * certificate from the next), so a torn rotation never drops connections; the
 * next read that succeeds takes over. Unreadable files at construction are a
 * {@link ConfigError}: the service does not start with TLS it cannot serve.
 */
export class ReloadingPemFiles implements experimental.CertificateProvider {
  private readonly files: PemFiles;
  private readonly intervalMs: number;
  private readonly logger: Logger | undefined;
  private current: PemContent;
  private readonly caListeners = new Set<experimental.CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<experimental.IdentityCertificateUpdateListener>();
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(options: ReloadingPemFilesOptions) {
    if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
      throw new ConfigError([`TLS: certFile and keyFile go together (got ${options.certFile ? 'certFile' : 'keyFile'} only)`]);
    }
    if (options.certFile === undefined && options.caFile === undefined) throw new ConfigError(['TLS: set certFile and keyFile, caFile, or both']);
    this.files = { certFile: options.certFile, keyFile: options.keyFile, caFile: options.caFile };
    this.intervalMs = options.reloadIntervalMs ?? DEFAULT_TLS_RELOAD_MS;
    this.logger = options.logger;
    try {
      this.current = validated(this.readSync());
    } catch (err) {
      throw new ConfigError([`TLS files ${this.describe()}: ${(err as Error).message}`], { cause: err });
    }
  }

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    this.start();
    process.nextTick(listener, this.caUpdate());
  }

  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
    this.stopIfUnused();
  }

  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    this.start();
    process.nextTick(listener, this.identityUpdate());
  }

  removeIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
    this.stopIfUnused();
  }

  /** Reads the files again and hands changed, valid content to every listener. */
  private async reload(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const next = validated(await this.read());
      if (sameContent(next, this.current)) return;
      this.current = next;
      this.logger?.info({ files: this.files }, 'tls: rotated certificate files loaded');
      for (const listener of this.identityListeners) listener(this.identityUpdate());
      for (const listener of this.caListeners) listener(this.caUpdate());
    } catch (err) {
      this.logger?.warn({ files: this.files, reason: (err as Error).message }, 'tls: files unreadable or not a valid pair; keeping the certificates in use');
    } finally {
      this.reading = false;
    }
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.reload(), this.intervalMs);
    this.timer.unref();
  }

  private stopIfUnused(): void {
    if (this.caListeners.size > 0 || this.identityListeners.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private identityUpdate(): experimental.IdentityCertificateUpdate | null {
    return this.current.cert && this.current.key ? { certificate: this.current.cert, privateKey: this.current.key } : null;
  }

  private caUpdate(): experimental.CaCertificateUpdate | null {
    return this.current.ca ? { caCertificate: this.current.ca } : null;
  }

  private readSync(): PemContent {
    const { certFile, keyFile, caFile } = this.files;
    return {
      ...(certFile ? { cert: readFileSync(certFile) } : {}),
      ...(keyFile ? { key: readFileSync(keyFile) } : {}),
      ...(caFile ? { ca: readFileSync(caFile) } : {}),
    };
  }

  private async read(): Promise<PemContent> {
    const { certFile, keyFile, caFile } = this.files;
    const [cert, key, ca] = await Promise.all([certFile, keyFile, caFile].map((f) => (f ? readFile(f) : Promise.resolve(undefined))));
    return { ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(ca ? { ca } : {}) };
  }

  private describe(): string {
    return Object.entries(this.files)
      .filter(([, path]) => path !== undefined)
      .map(([name, path]) => `${name}=${path}`)
      .join(', ');
  }
}

/** OpenSSL's own check: the certificate parses, the key matches it, the CA bundle parses. */
function validated(content: PemContent): PemContent {
  createSecureContext({ ...content });
  return content;
}

function sameContent(a: PemContent, b: PemContent): boolean {
  const same = (x: Buffer | undefined, y: Buffer | undefined): boolean => (x === undefined ? y === undefined : y !== undefined && x.equals(y));
  return same(a.cert, b.cert) && same(a.key, b.key) && same(a.ca, b.ca);
}
