export * from './encode';
export * from './decode';
