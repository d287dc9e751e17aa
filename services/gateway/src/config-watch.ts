import { createHash } from 'node:crypto';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '@schedmesh/runtime';

/** Options of {@link watchConfigFile}. */
export interface ConfigWatchOptions {
  path: string;
  /** Called with the new text after each change of content. Its errors (or rejection) are logged; watching goes on. */
  onChange(text: string): void | Promise<void>;
  logger: Logger;
  /** Quiet time after the last event before the file is read (editors write in several steps). */
  debounceMs: number;
  /** The text already applied, so a touch without a change does nothing. */
  initialText?: string;
}

/** A running watch. */
export interface ConfigWatch {
  close(): void;
}

/**
 * Watches a configuration file and hands its new text to `onChange` when the
 * content changes. The directory is watched, not the file, because editors
 * and ConfigMap volumes replace the file (rename, or a `..data` symlink swap)
 * rather than write to it. A file that cannot be read for a moment (in the
 * middle of a swap) is retried at the next event.
 */
export function watchConfigFile(options: ConfigWatchOptions): ConfigWatch {
  const { path, logger } = options;
  const name = basename(path);
  let lastDigest = options.initialText === undefined ? '' : digest(options.initialText);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const check = async (): Promise<void> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      logger.warn({ path, err: (err as Error).message }, 'plugin configuration file cannot be read; keeping the one in force');
      return;
    }
    const d = digest(text);
    if (closed || d === lastDigest) return;
    lastDigest = d;
    try {
      await options.onChange(text);
    } catch (err) {
      logger.debug({ path, err: (err as Error).message }, 'plugin configuration file change not applied');
    }
  };

  const watcher: FSWatcher = watch(dirname(path), { persistent: false }, (_event, file) => {
    // ConfigMap volumes swap "..data"; editors may write a temp file and rename it.
    if (file !== null && file !== name && !file.startsWith('..')) return;
    clearTimeout(timer);
    timer = setTimeout(() => void check(), options.debounceMs);
  });
  watcher.on('error', (err) => logger.error({ path, err: err.message }, 'watching the plugin configuration failed; restart to resume hot reload'));

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
