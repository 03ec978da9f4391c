import { describe, expect, it } from 'vitest';
import { expectError, expectValid } from './testing/helpers';
import { isResource, validateResource } from './validate-resource';
import { LABELS } from './labels';

const GW = 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: waypoint, namespace: ns1, labels: {istio.io/waypoint-for: service}}\n';
const ROUTE = 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: ns1}\n';

describe('Gateway API', () => {
  it('accepts a waypoint Gateway with status, a GatewayClass and a ReferenceGrant', () => {
    expectValid(`${GW}spec:
  gatewayClassName: istio-waypoint
  listeners:
  - {name: mesh, port: 15008, protocol: HBONE, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: a}}}}}
status:
  addresses: [{type: Hostname, value: waypoint.ns1.svc.cluster.local}]
  conditions: [{type: Programmed, status: "True", reason: Programmed}]
`);
    expectValid('apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: istio-waypoint}\nspec: {controllerName: istio.io/mesh-controller}\n');
    expectValid('apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: b}\nspec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: a}], to: [{group: "", kind: Service}]}\n');
  });

  it('rejects an unknown allowedRoutes.from and duplicate listener names', () => {
    expectError(`${GW}spec: {gatewayClassName: istio, listeners: [{name: a, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Everywhere}}}]}\n`, 'spec.listeners[0].allowedRoutes.namespaces.from', 'unknown namespaces.from "Everywhere": expected All|Same|Selector');
    expectError(`${GW}spec: {gatewayClassName: istio, listeners: [{name: a, port: 80, protocol: HTTP}, {name: a, port: 81, protocol: HTTP}]}\n`, 'spec.listeners[1].name', 'must be unique');
  });

  it('accepts an HTTPRoute with matches, filters, backendRefs and timeouts', () => {
    expectValid(`${ROUTE}spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  hostnames: [reviews.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /api}
      headers: [{name: x-user, value: jason}]
      queryParams: [{type: Exact, name: q, value: "1"}]
      method: GET
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-a, value: b}], remove: [x-c]}
    backendRefs: [{name: reviews-v1, port: 9080, weight: 90}, {name: reviews-v2, port: 9080, weight: 10}]
    timeouts: {request: 10s, backendRequest: 500ms}
`);
  });

  it('rejects a bad path match type, relative path and filter/type mismatch', () => {
    expectError(`${ROUTE}spec: {rules: [{matches: [{path: {type: Prefix, value: /a}}]}]}\n`, 'spec.rules[0].matches[0].path.type', 'unknown path match type "Prefix": expected Exact|PathPrefix|RegularExpression');
    expectError(`${ROUTE}spec: {rules: [{matches: [{path: {value: api}}]}]}\n`, 'spec.rules[0].matches[0].path.value', 'must be an absolute path');
    expectError(`${ROUTE}spec: {rules: [{filters: [{type: RequestHeaderModifier}]}]}\n`, 'spec.rules[0].filters[0].requestHeaderModifier', 'must be specified for filter type RequestHeaderModifier');
    expectError(`${ROUTE}spec: {rules: [{timeouts: {request: soon}}]}\n`, 'spec.rules[0].timeouts.request', 'invalid duration "soon"');
    expectError(`${ROUTE}spec: {rules: [{backendRefs: [{name: svc}]}]}\n`, 'spec.rules[0].backendRefs[0].port', 'port is required');
  });

  it('accepts a CORS filter and checks its fields', () => {
    expectValid(`${ROUTE}spec:
  rules:
  - filters:
    - type: CORS
      cors: {allowOrigins: ["https://a.example", "*"], allowCredentials: true, allowMethods: [GET, POST], allowHeaders: [x-a], exposeHeaders: [x-b], maxAge: 60}
`);
    expectError(`${ROUTE}spec: {rules: [{filters: [{type: CORS, cors: {maxAge: 0}}]}]}\n`, 'spec.rules[0].filters[0].cors.maxAge', '0');
    expectError(`${ROUTE}spec: {rules: [{filters: [{type: CORS, cors: {allowCredentials: "yes"}}]}]}\n`, 'spec.rules[0].filters[0].cors.allowCredentials', 'bool');
  });

  it('accepts and checks GRPCRoute', () => {
    const g = 'apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: g, namespace: ns1}\n';
    expectValid(`${g}spec: {parentRefs: [{name: gw}], rules: [{matches: [{method: {service: com.example.User, method: Login}}], backendRefs: [{name: user, port: 50051}]}]}\n`);
    expectError(`${g}spec: {rules: [{matches: [{method: {type: Exact}}]}]}\n`, 'spec.rules[0].matches[0].method', 'one or both of service or method');
  });

  it('narrows the two Gateway kinds by group', () => {
    const r = validateResource({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'g' }, spec: { gatewayClassName: 'istio', listeners: [{ name: 'l', port: 80, protocol: 'HTTP' }] } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(isResource(r.value, 'gateway.networking.k8s.io/Gateway')).toBe(true);
    expect(isResource(r.value, 'networking.istio.io/Gateway')).toBe(false);
  });
});

describe('core kinds', () => {
  it('accepts a Pod, Service, EndpointSlice, Node, Secret, ConfigMap, ServiceAccount and Deployment', () => {
    expectValid(`apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns1, uid: u1, labels: {app: a}, annotations: {ambient.istio.io/redirection: enabled}}
spec:
  nodeName: node-1
  serviceAccountName: sa
  dnsPolicy: ClusterFirst
  containers: [{name: app, image: nginx, ports: [{containerPort: 8080, name: http}], resources: {}}]
status: {phase: Running, podIP: 10.0.0.5, podIPs: [{ip: 10.0.0.5}], conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: ns1}
spec: {selector: {app: a}, clusterIP: 10.96.0.10, ports: [{name: http, port: 80, targetPort: http, appProtocol: http}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s-abc, namespace: ns1, labels: {kubernetes.io/service-name: s}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.5], conditions: {ready: true}, nodeName: node-1, targetRef: {kind: Pod, name: p, namespace: ns1}}]
ports: [{name: http, port: 8080, protocol: TCP}]
---
apiVersion: v1
kind: Node
metadata: {name: node-1, labels: {topology.kubernetes.io/zone: z1}}
status: {addresses: [{type: InternalIP, address: 172.18.0.2}]}
---
apiVersion: v1
kind: Secret
metadata: {name: cacerts, namespace: istio-system}
type: Opaque
data: {ca-cert.pem: aGVsbG8=}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-ca-root-cert, namespace: ns1}
data: {root-cert.pem: "-----BEGIN CERTIFICATE-----"}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: ns1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: ns1}
spec:
  replicas: 2
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec: {containers: [{name: app, image: nginx}]}
`);
  });

  it('rejects each core kind with a precise path', () => {
    expectError('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, ports: [{containerPort: 0}]}]}\n', 'spec.containers[0].ports[0].containerPort', 'out of range');
    expectError('apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {version: 1}}\nspec: {containers: []}\n', 'metadata.labels.version', 'label value must be a string');
    expectError('apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, protocol: HTTP}]}\n', 'spec.ports[0].protocol', 'unknown protocol "HTTP": expected TCP|UDP|SCTP');
    expectError('apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: IPv5\nendpoints: []\n', 'addressType', 'unknown addressType "IPv5"');
    expectError('apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {addresses: [{type: InternalIP}]}\n', 'status.addresses[0].address', 'is required');
    expectError('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: "not base64!"}\n', 'data.k', 'must be base64-encoded');
    expectError('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: 1}\n', 'data.k', 'must be a string');
    expectError('apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\nautomountServiceAccountToken: "yes"\n', 'automountServiceAccountToken', 'must be a boolean');
    expectError('apiVersion: v1\nkind: Namespace\nmetadata: {name: Bad_Name}\n', 'metadata.name', 'DNS-1123');
    expectError('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {selector: {}, template: {spec: {containers: [{image: x}]}}}\n', 'spec.template.spec.containers[0].name', 'is required');
  });

  it('rejects an apiVersion the kind is not served at', () => {
    expectError('apiVersion: security.istio.io/v1alpha1\nkind: AuthorizationPolicy\nmetadata: {name: a}\nspec: {}\n', 'apiVersion', 'expected security.istio.io/v1|security.istio.io/v1beta1');
  });

  it('exposes label constants', () => {
    expect(LABELS.DATAPLANE_MODE).toBe('istio.io/dataplane-mode');
    expect(LABELS.USE_WAYPOINT).toBe('istio.io/use-waypoint');
  });
});
