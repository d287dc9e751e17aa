import { execFile } from 'node:child_process';
import { requireBinary } from './binaries.js';
import type { ControlPlane } from './controlplane.js';

/**
 * Runs the kubectl built with the control plane against it, with `input` on
 * stdin; resolves with stdout, rejects with stderr in the message. A missing
 * binary fails with the build command (requireBinary).
 */
export function kubectl(cp: Pick<ControlPlane, 'kubeconfigPath'>, args: readonly string[], input = '', timeoutMs = 60_000): Promise<string> {
  const bin = requireBinary('kubectl');
  return new Promise((resolve, reject) => {
    const child = execFile(bin, ['--kubeconfig', cp.kubeconfigPath, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}
