// Sub-targets whose harness is not written yet. They report why instead of printing any number.
import fs from 'node:fs';
import path from 'node:path';

export function pendingTargets(repoRoot) {
  const exists = (p) => fs.existsSync(path.join(repoRoot, p));
  return {
    l7: () => ({
      available: false,
      reason: exists('packages/waypoint/src/main.ts')
        ? 'the L7 harness (waypoint vs HAProxy mode http vs nginx proxy_pass) is not written yet'
        : 'the waypoint has no entry point yet (packages/waypoint/src/main.ts) and the L7 harness is not written',
    }),
    'control-plane': () => ({
      available: false,
      reason: exists('packages/istiod/src/xds/server.ts')
        ? 'the control-plane harness (10,000 pods / 1,000 services, 100 delta clients against packages/istiod/src/xds) is not written yet'
        : 'istiod has no xDS server yet',
    }),
    cni: () => ({ available: false, reason: 'the CNI harness (pod add/del latency through the plugin and node agent) is not written yet' }),
  };
}
