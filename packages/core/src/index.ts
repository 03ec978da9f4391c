export * from './errors';
export * from './logging';
export * from './config';
export * from './metrics';
export * from './http';
export * from './drain';
