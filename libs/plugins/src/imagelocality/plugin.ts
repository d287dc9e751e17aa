/**
 * ImageLocality: prefers nodes that already hold the pod's images, weighing
 * each image by its size and by how widely it is spread over the cluster
 * (upstream imagelocality.ImageLocality).
 *
 * Mirrors kube-scheduler v1.36
 * pkg/scheduler/framework/plugins/imagelocality/image_locality.go.
 */
import { definePlugin, MAX_NODE_SCORE, PluginNames } from '@schedmesh/framework';
import type { FrameworkHandle, NodeInfo, PodInfo, ReadonlyCycleState, ScorePlugin } from '@schedmesh/framework';

const MB = 1024 * 1024;
/** Below this sum the score is 0 (upstream minThreshold, 23 MB). */
export const MIN_THRESHOLD = 23 * MB;
/** Per container, the sum that scores 100 (upstream maxContainerThreshold, 1000 MB). */
export const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** "nginx" → "nginx:latest": a name without a tag gets the default one (upstream normalizedImageName). */
export function normalizedImageName(name: string): string {
  return name.lastIndexOf(':') <= name.lastIndexOf('/') ? `${name}:latest` : name;
}

/** Scales the clamped sum into 0..100 (upstream calculatePriority). */
export function calculatePriority(sumScores: number, numContainers: number): number {
  const maxThreshold = MAX_CONTAINER_THRESHOLD * numContainers;
  const sum = Math.min(Math.max(sumScores, MIN_THRESHOLD), maxThreshold);
  return Math.trunc((MAX_NODE_SCORE * (sum - MIN_THRESHOLD)) / (maxThreshold - MIN_THRESHOLD));
}

class ImageLocality implements ScorePlugin {
  readonly name = PluginNames.ImageLocality;

  constructor(private readonly handle: FrameworkHandle) {}

  score(_state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const images = pod.pod.images;
    if (images.length === 0 || nodeInfo.imageSizes.size === 0) return 0;
    const snapshot = this.handle.snapshot();
    const totalNodes = snapshot.nodeInfos().length;
    let sum = 0;
    for (const image of images) {
      const name = normalizedImageName(image);
      const size = nodeInfo.imageSizes.get(name);
      if (size === undefined) continue;
      // Images on few nodes count less: pulling them elsewhere is cheap to avoid spreading.
      sum += Math.trunc(size * (snapshot.imageNodeCount(name) / totalNodes));
    }
    return calculatePriority(sum, images.length);
  }
}

/** The ImageLocality factory. */
export const imageLocalityPlugin = definePlugin({
  name: PluginNames.ImageLocality,
  points: ['score'],
  defaultWeight: 1,
  create: (_args, handle) => new ImageLocality(handle),
});
