/**
 * reconstructions.json: the original-vs-reconstructed inputs of the gradient-inversion attack,
 * for report.html's grid. Each image is its values scaled to bytes over the data's range, base64.
 */
import type { ReconstructionImages } from '../../coordinator/privacy/update-attacks.js';

export const RECONSTRUCTIONS_FILE = 'reconstructions.json';

export interface ReconstructionFile {
  featureShape: number[];
  pairs: { round: number; clientId: number; sample: number; label: number; psnr: number; ssim: number | null; original: string; reconstruction: string }[];
}

export function reconstructionFile(images: ReconstructionImages): ReconstructionFile {
  const [lo, hi] = images.range;
  const span = hi - lo || 1;
  const bytes = (values: Float32Array) => Buffer.from(Uint8Array.from(values, (v) => Math.round((255 * (v - lo)) / span))).toString('base64');
  return {
    featureShape: images.featureShape,
    pairs: images.pairs.map(({ original, reconstruction, ...rest }) => ({ ...rest, original: bytes(original), reconstruction: bytes(reconstruction) })),
  };
}
