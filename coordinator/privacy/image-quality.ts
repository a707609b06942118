/**
 * How close a reconstructed input is to the original: PSNR for any feature vector, and SSIM
 * (Wang, Bovik, Sheikh, Simoncelli 2004) for images, the two figures gradient-inversion papers
 * report (Zhu et al. 2019, Geiping et al. 2020).
 */

/** A float32 round-off reconstruction has MSE ≈ 1e-14: PSNR is capped here so means stay meaningful. */
export const MAX_PSNR_DB = 100;
/** scikit-image's default window; a 28×28 MNIST digit has 22×22 windows of this size. */
const SSIM_WINDOW = 7;
const SSIM_K1 = 0.01;
const SSIM_K2 = 0.03;

/** Peak signal-to-noise ratio in dB for values that span `range` (1 for pixels in [0, 1]), capped at MAX_PSNR_DB. */
export function psnr(original: ArrayLike<number>, reconstruction: ArrayLike<number>, range: number): number {
  checkSameLength(original, reconstruction, 'psnr');
  if (!(range > 0)) throw new RangeError(`psnr: range must be > 0 (got ${range})`);
  let squared = 0;
  for (let i = 0; i < original.length; i++) squared += (original[i]! - reconstruction[i]!) ** 2;
  const mse = squared / original.length;
  const floor = range * range * 10 ** (-MAX_PSNR_DB / 10);
  return 10 * Math.log10((range * range) / Math.max(mse, floor));
}

/**
 * Mean SSIM over every 7×7 window of a height × width × channels image (row-major, channels
 * last), each channel on its own, with a uniform window and sample covariances as scikit-image
 * computes it by default.
 */
export function ssim(original: ArrayLike<number>, reconstruction: ArrayLike<number>, imageShape: readonly number[], range: number): number {
  checkSameLength(original, reconstruction, 'ssim');
  const [height, width, channels = 1] = imageShape;
  if (imageShape.length < 2 || imageShape.length > 3 || height! * width! * channels !== original.length) {
    throw new RangeError(
      `ssim: imageShape must be [height, width] or [height, width, channels] with ${original.length} values (got [${imageShape.join(', ')}])`,
    );
  }
  if (height! < SSIM_WINDOW || width! < SSIM_WINDOW)
    throw new RangeError(`ssim: images must be at least ${SSIM_WINDOW}×${SSIM_WINDOW} (got ${height}×${width})`);
  const c1 = (SSIM_K1 * range) ** 2;
  const c2 = (SSIM_K2 * range) ** 2;
  const n = SSIM_WINDOW * SSIM_WINDOW;
  const at = (values: ArrayLike<number>, y: number, x: number, c: number) => values[(y * width! + x) * channels + c]!;
  let total = 0;
  let windows = 0;
  for (let c = 0; c < channels; c++) {
    for (let top = 0; top + SSIM_WINDOW <= height!; top++) {
      for (let left = 0; left + SSIM_WINDOW <= width!; left++) {
        let [sa, sb, saa, sbb, sab] = [0, 0, 0, 0, 0];
        for (let y = top; y < top + SSIM_WINDOW; y++) {
          for (let x = left; x < left + SSIM_WINDOW; x++) {
            const a = at(original, y, x, c);
            const b = at(reconstruction, y, x, c);
            sa += a;
            sb += b;
            saa += a * a;
            sbb += b * b;
            sab += a * b;
          }
        }
        const [ma, mb] = [sa / n, sb / n];
        // Sample (n − 1) covariances, as scikit-image's use_sample_covariance default.
        const va = (saa - n * ma * ma) / (n - 1);
        const vb = (sbb - n * mb * mb) / (n - 1);
        const cov = (sab - n * ma * mb) / (n - 1);
        total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
        windows += 1;
      }
    }
  }
  return total / windows;
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>, caller: string): void {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`${caller}: needs two non-empty vectors of one length (got ${a.length} and ${b.length})`);
}
