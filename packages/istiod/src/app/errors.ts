import { defineMeshError } from '@mesh/core';

/** istiod cannot start with the given settings; names the variable to fix. */
export const IstiodStartError = defineMeshError(
  'ISTIOD_START',
  'IstiodStartError',
  (d: { setting: string; reason: string }) => `istiod cannot start: ${d.setting}: ${d.reason}`,
);
