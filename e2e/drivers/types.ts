/**
 * The one surface every scenario is written against. Two implementations: `local` (netns cluster driven by
 * meshctl) and `kind` (kubectl against a kind cluster). Scenarios never touch a driver's internals.
 */
export type MeshComponent = 'istiod' | 'ztunnel' | 'cni-agent';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Bytes written to the command's stdin (then closed). */
  input?: string;
  /** Hard limit: the command is killed and the result has code 124. */
  timeoutMs?: number;
}

export interface NodeInfo {
  name: string;
  ip: string;
}

export interface PodInfo {
  namespace: string;
  name: string;
  ip: string;
  node: string;
}

/** A process running in a pod with piped stdio, e.g. a long-lived `nc` stream. */
export interface PodStream {
  write(text: string): void;
  /** Everything the process printed to stdout so far. */
  output(): string;
  /** Resolves with the exit code once the process is gone. */
  readonly exited: Promise<number>;
  close(): Promise<void>;
}

export interface CaptureOptions {
  /** Node whose uplink (eth0 in the node's network namespace) is captured: what crosses between nodes. */
  node: string;
  /** tcpdump filter expression, e.g. `tcp and host 10.244.1.2`. */
  filter: string;
  /** Upper bound of the capture; it also ends once `during` settled and a short flush passed. */
  durationMs: number;
}

export interface CaptureResult {
  /** tcpdump -nn one-line summaries, one per packet. */
  lines: string[];
  /** Raw packet bytes (pcap or tcpdump -A text) for searching plaintext markers. */
  raw: Buffer;
}

export interface LogTarget {
  component?: MeshComponent;
  node?: string;
  namespace?: string;
  pod?: string;
}

export interface ClusterDriver {
  readonly kind: 'local' | 'kind';
  readonly cluster: string;
  nodes(): Promise<NodeInfo[]>;
  /** YAML text (multi-document) or objects. Waits until created pods run. */
  apply(manifest: string | readonly object[]): Promise<void>;
  delete(manifest: string | readonly object[]): Promise<void>;
  exec(namespace: string, pod: string, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  stream(namespace: string, pod: string, argv: readonly string[]): Promise<PodStream>;
  pod(namespace: string, pod: string): Promise<PodInfo>;
  /** Host pid (local) or container-start identity (kind) of the pod's main process: unchanged = not restarted. */
  podProcessId(namespace: string, pod: string): Promise<string>;
  logs(target: LogTarget): Promise<string>;
  /** Sets (string) or removes (null) namespace labels, like `kubectl label ns`. */
  label(namespace: string, labels: Record<string, string | null>): Promise<void>;
  /** Captures on a node link while `during` runs. */
  capture(opts: CaptureOptions, during: () => Promise<void>): Promise<CaptureResult>;
  /** Stops the component and starts it again; resolves once it reports ready. */
  restart(component: MeshComponent, node?: string): Promise<void>;
  /** Sends a signal; the component stays down until `restart` (kind: see README for DaemonSets). */
  kill(component: MeshComponent, signal: NodeJS.Signals, node?: string): Promise<void>;
  /** Prometheus text of the component's :15020 (ztunnel) / :15014 (istiod) endpoint on that node. */
  metrics(component: MeshComponent, node: string): Promise<string>;
  /** GET on the component's admin port (ztunnel :15000), e.g. `/config_dump`. */
  admin(component: MeshComponent, node: string, path: string): Promise<string>;
  /**
   * `istioctl waypoint apply -n NS --enroll-namespace --wait`: a waypoint Gateway named `waypoint` (class
   * istio-waypoint, for services), the namespace labelled istio.io/use-waypoint=waypoint; resolves with the
   * waypoint's pod once it is ready.
   */
  waypointApply(namespace: string): Promise<PodInfo>;
  /** Tears the cluster down (only for drivers that created it). */
  destroy(): Promise<void>;
}
