import { describe, expect, it } from 'vitest';
import { agentConfig } from './config';

const BASE = { NODE_NAME: 'n1' };

describe('agentConfig native helper settings', () => {
  it('defaults both to "" (look beside the bundle)', () => {
    const c = agentConfig.parse(BASE);
    expect(c.CNI_NATIVE_PLUGIN_PATH).toBe('');
    expect(c.NETNS_EXEC_HELPER).toBe('');
  });

  it('reads the old MESH_* names as aliases', () => {
    const c = agentConfig.parse({ ...BASE, MESH_CNI_NATIVE_PLUGIN: 'off', MESH_NETNS_EXEC: '/opt/mesh-netns-exec' });
    expect(c.CNI_NATIVE_PLUGIN_PATH).toBe('off');
    expect(c.NETNS_EXEC_HELPER).toBe('/opt/mesh-netns-exec');
  });

  it('prefers the registered names over the aliases', () => {
    const c = agentConfig.parse({ ...BASE, CNI_NATIVE_PLUGIN_PATH: '/bin/istio-cni', MESH_CNI_NATIVE_PLUGIN: 'off', NETNS_EXEC_HELPER: 'off', MESH_NETNS_EXEC: '/x' });
    expect(c.CNI_NATIVE_PLUGIN_PATH).toBe('/bin/istio-cni');
    expect(c.NETNS_EXEC_HELPER).toBe('off');
  });
});
