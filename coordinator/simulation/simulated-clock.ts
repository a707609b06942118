/**
 * How long a client's round takes on its simulated device, and what it costs in energy and
 * emissions. The worker's real wall-clock time says how fast this machine is, not the device;
 * these pure functions give the time the device would take.
 *
 * Model (one round, strictly sequential):
 *   seconds = latencyMs / 1000                      one round trip: check-in / task request
 *           + 8 · downloadBytes / downlinkBps       global model in (bits over bits per second)
 *           + trainingFlops / flops                 local training (FLOPs over FLOP/s)
 *           + 8 · uploadBytes / uplinkBps           update out
 *   joules  = trainPowerW · compute s + radioPowerW · (download s + upload s)
 *   grams   = joules / 3.6e6 (J per kWh) · carbonIntensity (gCO2e per kWh)
 * Not modelled: idle power while waiting, the radio's high-power tail after a transfer (Huang
 * et al. 2012 measure ≈ 11 s on LTE), overlap of transfer and compute, and the server's side.
 */
import type { DeviceProfile } from '../../shared/devices/device-profiles.js';

/** What a client does in one round, from the model, the codecs and its data. */
export interface ClientWork {
  downloadBytes: number;
  uploadBytes: number;
  trainingFlops: number;
}

export interface TimeBreakdown {
  latencySeconds: number;
  downloadSeconds: number;
  computeSeconds: number;
  uploadSeconds: number;
  totalSeconds: number;
}

export interface EnergyBreakdown {
  computeJoules: number;
  radioJoules: number;
  totalJoules: number;
}

export interface ClientRoundCost {
  time: TimeBreakdown;
  energy: EnergyBreakdown;
  emissionsGrams: number;
}

const JOULES_PER_KWH = 3.6e6;

export function clientRoundTime(profile: DeviceProfile, work: ClientWork): TimeBreakdown {
  checkNonNegative('downloadBytes', work.downloadBytes);
  checkNonNegative('uploadBytes', work.uploadBytes);
  checkNonNegative('trainingFlops', work.trainingFlops);
  const latencySeconds = profile.latencyMs / 1000;
  const downloadSeconds = (8 * work.downloadBytes) / profile.downlinkBps;
  const computeSeconds = work.trainingFlops / profile.flops;
  const uploadSeconds = (8 * work.uploadBytes) / profile.uplinkBps;
  return {
    latencySeconds,
    downloadSeconds,
    computeSeconds,
    uploadSeconds,
    totalSeconds: latencySeconds + downloadSeconds + computeSeconds + uploadSeconds,
  };
}

/** Energy of a round; latency is waiting, not transferring, so it draws no radio power here. */
export function clientEnergy(profile: DeviceProfile, time: TimeBreakdown): EnergyBreakdown {
  const computeJoules = profile.trainPowerW * time.computeSeconds;
  const radioJoules = profile.radioPowerW * (time.downloadSeconds + time.uploadSeconds);
  return { computeJoules, radioJoules, totalJoules: computeJoules + radioJoules };
}

/** Grams of CO2-equivalent for `joules` of electricity at `carbonIntensity` gCO2e/kWh. */
export function emissionsGrams(joules: number, carbonIntensity: number): number {
  checkNonNegative('carbonIntensity', carbonIntensity);
  return (joules / JOULES_PER_KWH) * carbonIntensity;
}

export function clientRoundCost(profile: DeviceProfile, work: ClientWork, carbonIntensity: number): ClientRoundCost {
  const time = clientRoundTime(profile, work);
  const energy = clientEnergy(profile, time);
  return { time, energy, emissionsGrams: emissionsGrams(energy.totalJoules, carbonIntensity) };
}

function checkNonNegative(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`simulated clock: ${name} must be a finite number ≥ 0 (got ${value})`);
}
