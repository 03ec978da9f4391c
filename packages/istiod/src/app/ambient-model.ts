import { AmbientIndex } from '../model';
import type { ModelFactory } from './model-seam';

/** istiod's model: the ambient index over the config store, serving WDS Addresses and Authorizations. */
export const ambientModel: ModelFactory = (config, mesh) => {
  const index = new AmbientIndex(mesh);
  const detach = index.attach(config);
  return { xdsStore: index, stop: detach };
};
