import { bool, defineConfig, duration, enumOf, list, str, int, type ConfigValues } from '@mesh/core';
import { DEFAULT_HOST_PROBE_SNAT_IPV4, DEFAULT_HOST_PROBE_SNAT_IPV6 } from '../iptables';
import { DEFAULT_CNI_AGENT_RUN_DIR } from '../plugin';
import { DEFAULT_ZTUNNEL_UDS_PATH } from '../zds';

/** istio-cni's readiness port (`/readyz`), as in its DaemonSet. */
export const DEFAULT_READINESS_PORT = 8000;

/** Every env var of the node agent, once (Istio names where Istio has one). */
export const agentConfig = defineConfig({
  NODE_NAME: str('', 'Node this agent serves; only pods with spec.nodeName equal to it are handled', { required: true }),
  ZTUNNEL_UDS_ADDRESS: str(DEFAULT_ZTUNNEL_UDS_PATH, 'ZDS socket ztunnel connects to (ztunnel INPOD_UDS)', { aliases: ['ZTUNNEL_UDS'] }),
  CNI_AGENT_RUN_DIR: str(DEFAULT_CNI_AGENT_RUN_DIR, 'Directory shared with the plugin; pluginevent.sock is created in it'),
  POD_SOURCE: enumOf(['directory', 'kubernetes'], 'directory', 'Where pods and namespaces come from: a manifest directory (local cluster) or the Kubernetes API'),
  KUBECONFIG: str('', 'Kubeconfig file for POD_SOURCE=kubernetes; empty = in-cluster service account'),
  POD_NAMESPACE: str('istio-system', 'Namespace the agent runs in (plugin pod_namespace: its pods are never held back)'),
  CNI_INSTALL: bool(false, 'Install the istio-cni plugin binary and chain it into the node CNI config, and keep it installed'),
  CNI_BIN_TARGET_DIR: str('/host/opt/cni/bin', 'Host CNI bin dir as mounted in the agent; the plugin is copied there'),
  MOUNTED_CNI_NET_DIR: str('/host/etc/cni/net.d', 'Host CNI config dir as mounted in the agent (Istio MOUNTED_CNI_NET_DIR)'),
  CNI_CONF_NAME: str('', 'Primary CNI config file to chain into; empty = the first *.conf/*.conflist, as the runtime picks'),
  CHAINED_CNI_PLUGIN: bool(true, 'Append istio-cni to the primary CNI config (false = standalone config)'),
  ISTIO_OWNED_CNI_CONFIG: bool(false, 'Chain into our own 02-istio-cni.conflist instead of editing the primary CNI file'),
  CNI_PLUGIN_PATH: str('', 'The bundled Node plugin, installed only when no native plugin is found (the native istio-cni takes priority, see CNI_NATIVE_PLUGIN_PATH); empty = istio-cni.mjs next to the agent bundle'),
  CNI_NATIVE_PLUGIN_PATH: {
    ...str('', 'Native istio-cni binary to install (takes priority over CNI_PLUGIN_PATH; a missing file fails the install); empty = look beside the bundle, then native-plugin/build; "off" = always the Node plugin behind its launcher', { aliases: ['MESH_CNI_NATIVE_PLUGIN'] }),
    unit: 'path',
  },
  CNI_PLUGIN_COPY_NODE: bool(false, 'Also copy the agent Node binary as istio-cni-node, for nodes without node on the runtime PATH'),
  CNI_UNINSTALL_ON_SHUTDOWN: bool(false, 'Remove the plugin and config on shutdown (default keeps them: pods fail closed while the agent is down)'),
  POD_SOURCE_DIR: str('', 'Directory of Pod/Namespace manifests watched in directory mode (local cluster)'),
  EXCLUDED_NAMESPACES: list(['kube-system'], 'Namespaces never enrolled (Istio cni.excludeNamespaces)'),
  NETNS_RESOLVER: enumOf(['auto', 'annotation', 'proc'], 'auto', 'How running pods netns are found: pod annotation mesh.local/netns, /proc cgroup scan, or both (auto)'),
  AMBIENT_HOST_PROBE_ENABLED: bool(true, 'Program the host probe SNAT rule and ipsets (off when agents share one host netns, as in the local cluster)'),
  NETNS_EXEC_HELPER: {
    ...str('', 'mesh-netns-exec helper that runs each pod operation\'s commands in one process inside the pod netns; empty = look beside the bundle, then native-plugin/build (none found = nsenter); "off" = one nsenter per command', { aliases: ['MESH_NETNS_EXEC'] }),
    unit: 'path',
  },
  HOST_NETNS: str('', 'Netns path for host probe rules; empty = the agent own netns'),
  HOST_PROBE_SNAT_IP: str(DEFAULT_HOST_PROBE_SNAT_IPV4, 'Source address kubelet probes are SNATed to'),
  HOST_PROBE_SNAT_IPV6: str(DEFAULT_HOST_PROBE_SNAT_IPV6, 'IPv6 source address kubelet probes are SNATed to'),
  AMBIENT_DNS_CAPTURE: bool(true, 'Redirect pod DNS to ztunnel (port 15053)'),
  AMBIENT_IPV6: bool(true, 'Also program ip6tables and IPv6 routes in pods'),
  NATIVE_NFTABLES: bool(false, 'Program the in-pod rules as nftables inet tables (one nft transaction) instead of iptables; the host probe rule stays iptables'),
  ZDS_ACK_TIMEOUT: duration('5s', 'How long ztunnel has to acknowledge one ZDS message', { unit: 'ms' }),
  CNI_POD_WAIT: duration('2s', 'How long /cmdadd waits for an unknown pod to appear in the pod source', { unit: 'ms' }),
  READINESS_PORT: int(DEFAULT_READINESS_PORT, 'Port of GET /readyz (0 = disabled)', { min: 0, max: 65535, unit: 'port' }),
  LOG_LEVEL: enumOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'Log level'),
});

export type AgentConfig = ConfigValues<typeof agentConfig.specs>;

