/**
 * The one TensorFlow.js entry point for fedsim, so that every module shares one tfjs engine
 * (backends, kernels and registered gradients are global state). The wasm and native backends
 * are registered by client/backend when chosen.
 */
import * as tf from '@tensorflow/tfjs';

// Production mode skips tfjs' debug checks and its console banner urging tfjs-node: fedsim logs
// the backend it picked itself.
tf.enableProdMode();

export * from '@tensorflow/tfjs';
