/**
 * Saves the final global model in the TensorFlow.js layers format (model.json + weights.bin),
 * loadable with tf.loadLayersModel. tfjs' own file:// handler lives in tfjs-node, which is
 * optional, so the artifacts are written here.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlatWeights } from '../../shared/models/parameters.js';
import * as tf from '../../shared/tf.js';

export async function saveModel(model: tf.LayersModel, weights: Float32Array, directory: string): Promise<void> {
  setFlatWeights(model, weights);
  const staging = `${directory}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      const buffers = weightData === undefined ? [] : Array.isArray(weightData) ? weightData : [weightData];
      const bytes = Buffer.concat(buffers.map((b) => Buffer.from(b)));
      await writeFile(join(staging, 'weights.bin'), bytes);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(join(staging, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes.length } };
    }),
  );
  rmSync(directory, { recursive: true, force: true });
  renameSync(staging, directory);
}
