import { describe, it } from 'vitest';
import { expectError, expectValid } from './testing/helpers';

const VS = 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: bookinfo}\n';

describe('VirtualService', () => {
  it('accepts the reference example (v1, v1beta1 and v1alpha3)', () => {
    const spec = `spec:
  hosts: [reviews.prod.svc.cluster.local]
  http:
  - name: reviews-v2-routes
    match:
    - uri: {prefix: "/wpcatalog"}
      headers: {end-user: {exact: jason}}
      ignoreUriCase: true
    - uri: {regex: "^/consumercatalog/.*"}
    rewrite: {uri: "/newcatalog"}
    route:
    - destination: {host: reviews.prod.svc.cluster.local, subset: v2, port: {number: 9080}}
      weight: 80
      headers: {request: {set: {x-a: b}}, response: {remove: [x-c]}}
    - destination: {host: reviews.prod.svc.cluster.local, subset: v1}
      weight: 20
    timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,connect-failure,503"}
    fault:
      delay: {percentage: {value: 0.1}, fixedDelay: 5s}
      abort: {percentage: {value: 10}, httpStatus: 400}
    mirror: {host: reviews-shadow}
    mirrorPercentage: {value: 50}
    corsPolicy: {allowOrigins: [{exact: "https://example.com"}], allowMethods: [GET], maxAge: 24h}
  - redirect: {uri: /v1/bookRatings, authority: newratings.default.svc.cluster.local}
  tcp:
  - match: [{port: 27017}]
    route: [{destination: {host: mongo.backup.svc.cluster.local, port: {number: 5555}}}]
`;
    expectValid(VS + spec);
    expectValid(VS.replace('/v1\n', '/v1beta1\n') + spec);
    expectValid(VS.replace('/v1\n', '/v1alpha3\n') + spec);
  });

  it('rejects a StringMatch with two match types', () => {
    expectError(`${VS}spec: {hosts: [a], http: [{match: [{uri: {exact: /a, prefix: /b}}], route: [{destination: {host: a}}]}]}\n`, 'spec.http[0].match[0].uri', 'only one of exact, prefix or regex');
  });

  it('rejects destinations whose weights total 0', () => {
    expectError(`${VS}spec: {hosts: [a], http: [{route: [{destination: {host: a}, weight: 0}, {destination: {host: b}, weight: 0}]}]}\n`, 'spec.http[0].route', 'total destination weight = 0');
  });

  it('rejects a negative weight and a garbage timeout', () => {
    expectError(`${VS}spec: {hosts: [a], http: [{route: [{destination: {host: a}, weight: -1}]}]}\n`, 'spec.http[0].route[0].weight', 'out of range');
    expectError(`${VS}spec: {hosts: [a], http: [{timeout: 5x, route: [{destination: {host: a}}]}]}\n`, 'spec.http[0].timeout', 'invalid duration "5x"');
  });

  it('rejects route together with redirect, and routes with no action', () => {
    expectError(`${VS}spec: {hosts: [a], http: [{redirect: {uri: /x}, route: [{destination: {host: a}}]}]}\n`, 'spec.http[0]', 'cannot contain both route and redirect');
    expectError(`${VS}spec: {hosts: [a], http: [{name: empty}]}\n`, 'spec.http[0]', 'needs route, redirect or directResponse');
  });

  it('checks corsPolicy as Istio validateCORSPolicy', () => {
    const cors = (c: string) => `${VS}spec: {hosts: [a], http: [{corsPolicy: ${c}, route: [{destination: {host: a}}]}]}\n`;
    expectValid(cors('{allowOrigins: [{regex: "https://.*"}], allowMethods: ["*", PATCH], allowHeaders: ["*", x-a], maxAge: 2m, unmatchedPreflights: IGNORE}'));
    expectError(cors('{allowMethods: [FETCH]}'), 'spec.http[0].corsPolicy.allowMethods[0]', 'FETCH');
    expectError(cors('{allowHeaders: ["bad header"]}'), 'spec.http[0].corsPolicy.allowHeaders[0]', 'invalid header name');
    expectError(cors('{allowOrigins: [{exact: ""}]}'), 'spec.http[0].corsPolicy.allowOrigins[0]', 'not a valid match type for CORS allow origins');
    expectError(cors('{maxAge: 1500ms}'), 'spec.http[0].corsPolicy.maxAge', 'accurate only to seconds precision');
  });

  it('rejects a wildcard host bound to the mesh', () => {
    expectError(`${VS}spec: {hosts: ["*"], http: [{route: [{destination: {host: a}}]}]}\n`, 'spec.hosts[0]', 'wildcard host *');
  });
});

const DR = 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: bookinfo}\n';

describe('DestinationRule', () => {
  it('accepts the reference example', () => {
    expectValid(`${DR}spec:
  host: reviews.prod.svc.cluster.local
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    connectionPool:
      tcp: {maxConnections: 100, connectTimeout: 30ms}
      http: {http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3, idleTimeout: 60s}
    outlierDetection: {consecutive5xxErrors: 7, consecutiveGatewayErrors: 3, interval: 5m, baseEjectionTime: 15m, maxEjectionPercent: 50}
    tls: {mode: ISTIO_MUTUAL}
    portLevelSettings:
    - port: {number: 80}
      loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 0s}}}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: testversion
    labels: {version: v3}
    trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true}}}
`);
  });

  it('rejects a missing host, bad LB and duplicate subsets', () => {
    expectError(`${DR}spec: {subsets: [{name: v1}]}\n`, 'spec.host', 'is required');
    expectError(`${DR}spec: {host: a, trafficPolicy: {loadBalancer: {simple: FASTEST}}}\n`, 'spec.trafficPolicy.loadBalancer.simple', 'unknown load balancer "FASTEST"');
    expectError(`${DR}spec: {host: a, subsets: [{name: v1}, {name: v1}]}\n`, 'spec.subsets[1].name', 'duplicate subset name');
    expectError(`${DR}spec: {host: a, trafficPolicy: {outlierDetection: {maxEjectionPercent: 150}}}\n`, 'spec.trafficPolicy.outlierDetection.maxEjectionPercent', 'out of range');
  });
});

const SE = 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: external-svc, namespace: egress}\n';

describe('ServiceEntry', () => {
  it('accepts the reference examples', () => {
    expectValid(`${SE}spec:
  hosts: [api.dropboxapi.com, www.googleapis.com]
  ports: [{number: 443, name: https, protocol: TLS}]
  location: MESH_EXTERNAL
  resolution: DNS
`);
    expectValid(`${SE}spec:
  hosts: [mymongodb.somedomain]
  addresses: [192.192.192.192/24]
  ports: [{number: 27018, name: mongodb, protocol: MONGO}]
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints:
  - address: 2.2.2.2
  - address: 3.3.3.3
    ports: {mongodb: 27019}
`);
  });

  it('rejects an unknown resolution and an undeclared endpoint port', () => {
    expectError(`${SE}spec: {hosts: [a.com], resolution: DYNAMIC}\n`, 'spec.resolution', 'unknown resolution "DYNAMIC": expected NONE|STATIC|DNS|DNS_ROUND_ROBIN');
    expectError(`${SE}spec: {hosts: [a.com], resolution: STATIC, ports: [{number: 80, name: http}], endpoints: [{address: 1.1.1.1, ports: {grpc: 90}}]}\n`, 'spec.endpoints[0].ports', 'endpoint port "grpc" is not defined');
    expectError(`${SE}spec: {hosts: [a.com], workloadSelector: {labels: {a: b}}, endpoints: [{address: 1.1.1.1}]}\n`, 'spec', 'only one of workloadSelector or endpoints');
  });
});

const WE = 'apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: details-svc, namespace: bookinfo}\n';

describe('WorkloadEntry', () => {
  it('accepts the reference example', () => {
    expectValid(`${WE}spec: {serviceAccount: details-legacy, address: 2.2.2.2, labels: {app: details-legacy, instance-id: vm1}, ports: {http: 9080}, network: n1, locality: us-east/zone1, weight: 3}\n`);
  });

  it('rejects a missing address and a bad port', () => {
    expectError(`${WE}spec: {labels: {app: x}}\n`, 'spec.address', 'is required');
    expectError(`${WE}spec: {address: 1.1.1.1, ports: {http: 70000}}\n`, 'spec.ports.http', 'out of range');
  });
});

const GW = 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: my-gateway, namespace: some-config-namespace}\n';

describe('Istio Gateway', () => {
  it('accepts the reference example', () => {
    expectValid(`${GW}spec:
  selector: {app: my-gateway-controller}
  servers:
  - port: {number: 443, name: https-443, protocol: HTTPS}
    hosts: [uk.bookinfo.com, eu.bookinfo.com]
    tls: {mode: SIMPLE, credentialName: bookinfo-secret}
`);
  });

  it('rejects a server without hosts', () => {
    expectError(`${GW}spec: {servers: [{port: {number: 80, name: http, protocol: HTTP}}]}\n`, 'spec.servers[0].hosts', 'is required');
  });
});
