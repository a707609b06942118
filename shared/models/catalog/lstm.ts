/**
 * LSTM next-token model (shared/models/recurrent-network.ts): preset shakespeare is the FedAvg
 * paper's (embedding 8, two layers of 256), small one layer of 64; or choose embedding and layers.
 */
import { recurrentModel } from '../recurrent-network.js';

export const LSTM = recurrentModel('lstm');
