export { startIstiod, type IstiodOptions, type RunningIstiod } from './istiod';
export { istiodConfig, argvToEnv, parseConfigSource, ISTIOD_GRPC_PORT, ISTIOD_MONITORING_PORT, ISTIOD_READINESS_PORT, type IstiodConfig } from './config';
export { ambientModel } from './ambient-model';
export { emptyModel, type ModelFactory, type ModelHandle, type MeshSettings } from './model-seam';
export { IstiodStartError } from './errors';
