import {
  anyInt,
  anyString,
  arr,
  bool,
  type Check,
  eachIn,
  has,
  int,
  istioDuration,
  anyDuration,
  isObj,
  nonNegInt,
  obj,
  oneOf,
  port,
  stringList,
  str,
} from '../validate/schema';
import { exportTo, labels, wildcardHost, workloadSelector } from './common';

const consistentHash = obj(
  {
    httpHeaderName: str({ nonEmpty: true }),
    httpCookie: obj({ name: str({ nonEmpty: true }), path: anyString, ttl: anyDuration }, { required: ['name'] }),
    useSourceIp: bool,
    httpQueryParameterName: str({ nonEmpty: true }),
    minimumRingSize: nonNegInt,
    ringHash: obj({ minimumRingSize: nonNegInt }),
    maglev: obj({ tableSize: nonNegInt }),
  },
  { check: (c, ctx) => {
    const keys = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'].filter((k) => has(c, k));
    if (keys.length !== 1) ctx.error('CONSTRAINT', 'consistentHash needs exactly one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName');
  } },
);

const loadBalancer = obj(
  {
    simple: oneOf(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'], 'load balancer'),
    consistentHash,
    localityLbSetting: () => {},
    warmupDurationSecs: anyDuration,
    warmup: () => {},
  },
  { check: (lb, ctx) => {
    if (has(lb, 'simple') && has(lb, 'consistentHash')) ctx.error('CONSTRAINT', 'only one of simple or consistentHash may be set');
  } },
);

const connectionPool = obj({
  tcp: obj({
    maxConnections: nonNegInt,
    connectTimeout: istioDuration,
    tcpKeepalive: obj({ probes: nonNegInt, time: istioDuration, interval: istioDuration }),
    maxConnectionDuration: istioDuration,
    idleTimeout: anyDuration,
  }),
  http: obj({
    http1MaxPendingRequests: nonNegInt,
    http2MaxRequests: nonNegInt,
    maxRequestsPerConnection: nonNegInt,
    maxRetries: nonNegInt,
    idleTimeout: istioDuration,
    h2UpgradePolicy: oneOf(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'], 'h2UpgradePolicy'),
    useClientProtocol: bool,
    maxConcurrentStreams: nonNegInt,
  }),
});

const outlierDetection = obj({
  consecutive5xxErrors: nonNegInt,
  consecutiveGatewayErrors: nonNegInt,
  consecutiveLocalOriginFailures: nonNegInt,
  consecutiveErrors: anyInt,
  splitExternalLocalOriginErrors: bool,
  interval: istioDuration,
  baseEjectionTime: istioDuration,
  maxEjectionPercent: int(0, 100),
  minHealthPercent: int(0, 100),
});

const tls = obj({
  mode: oneOf(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'], 'TLS mode'),
  clientCertificate: anyString,
  privateKey: anyString,
  caCertificates: anyString,
  credentialName: anyString,
  subjectAltNames: stringList,
  sni: anyString,
  insecureSkipVerify: bool,
  caCrl: anyString,
});

const portPolicyFields = { loadBalancer, connectionPool, outlierDetection, tls };

const trafficPolicy: Check = obj({
  ...portPolicyFields,
  portLevelSettings: arr(obj({ port: obj({ number: port }), ...portPolicyFields }, { required: ['port'] })),
  tunnel: obj({ protocol: anyString, targetHost: str({ nonEmpty: true }), targetPort: port }, { required: ['targetHost', 'targetPort'] }),
  proxyProtocol: obj({ version: oneOf(['V1', 'V2'], 'proxy protocol version') }),
});

const subset = obj(
  {
    name: str({ nonEmpty: true, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, format: 'a DNS-1123 label' }),
    labels,
    trafficPolicy,
  },
  { required: ['name'] },
);

export const destinationRuleSpec: Check = obj(
  { host: wildcardHost, trafficPolicy, subsets: arr(subset), exportTo, workloadSelector },
  {
    required: ['host'],
    check: (s, ctx) => {
      const seen = new Set<string>();
      eachIn(s, 'subsets', ctx, (sub) => {
        if (!isObj(sub) || typeof sub['name'] !== 'string') return;
        if (seen.has(sub['name'])) ctx.errorAt('name', 'CONSTRAINT', `duplicate subset name ${JSON.stringify(sub['name'])}`);
        seen.add(sub['name']);
      });
    },
  },
);
