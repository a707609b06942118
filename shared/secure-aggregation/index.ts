/**
 * Secure aggregation core: Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving
 * Machine Learning", CCS 2017 (semi-honest server), and SecAgg+ from Bell, Bonawitz, Gascón,
 * Lepoint, Raykova, "Secure Single-Server Aggregation with (Poly)Logarithmic Overhead", CCS 2020.
 * Transport-agnostic: state machines that consume and produce the messages in messages.ts.
 */
export * from './errors.js';
export * from './key-agreement.js';
export * from './shamir.js';
export * from './share-encryption.js';
export * from './prg.js';
export * from './fixed-point.js';
export * from './neighbour-graph.js';
export * from './parameters.js';
export * from './messages.js';
export * from './masking.js';
export * from './client.js';
export * from './server.js';
