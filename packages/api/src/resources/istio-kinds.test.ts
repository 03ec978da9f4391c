import { describe, it } from 'vitest';
import { expectError, expectValid } from './testing/helpers';

const AP = 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: httpbin, namespace: foo}\n';

describe('AuthorizationPolicy', () => {
  it('accepts the example from the Istio reference', () => {
    expectValid(`${AP}spec:
  selector:
    matchLabels: {app: httpbin, version: v1}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/sleep"]
    - source:
        namespaces: ["dev"]
    to:
    - operation:
        methods: ["GET"]
        ports: ["8080"]
    when:
    - key: request.auth.claims[iss]
      values: ["https://accounts.google.com"]
`);
    expectValid(`${AP}spec: {}\n`);
    expectValid(`${AP}spec: {action: DENY, rules: [{}]}\n`);
    expectValid(`apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: {name: w}\nspec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
  action: CUSTOM
  provider: {name: ext-authz}
  rules: [{to: [{operation: {paths: ["/admin"]}}]}]
`);
  });

  it('rejects an unknown action', () => {
    expectError(`${AP}spec: {action: ALOW}\n`, 'spec.action', 'unknown action "ALOW": expected ALLOW|DENY|AUDIT|CUSTOM');
  });

  it('rejects an empty principal with its exact path', () => {
    expectError(
      `${AP}spec:\n  rules:\n  - from:\n    - source: {namespaces: [a]}\n    - source: {principals: [a, b, ""]}\n`,
      'spec.rules[0].from[1].source.principals[2]',
      'must not be empty',
    );
  });

  it('rejects non-string principals', () => {
    expectError(`${AP}spec: {rules: [{from: [{source: {principals: [7]}}]}]}\n`, 'spec.rules[0].from[0].source.principals[0]', 'must be a string');
  });

  it('rejects selector together with targetRefs', () => {
    expectError(`${AP}spec: {selector: {matchLabels: {a: b}}, targetRefs: [{kind: Service, name: s}]}\n`, 'spec', 'only one of targetRefs or workloadSelector');
  });

  it('rejects DENY without rules', () => {
    expectError(`${AP}spec: {action: DENY}\n`, 'spec', 'DENY action without rules');
  });

  it('rejects bad ipBlocks, ports and conditions', () => {
    expectError(`${AP}spec: {rules: [{from: [{source: {ipBlocks: ["10.0.0.0/33"]}}]}]}\n`, 'spec.rules[0].from[0].source.ipBlocks[0]', 'invalid IP address or CIDR');
    expectError(`${AP}spec: {rules: [{to: [{operation: {ports: ["http"]}}]}]}\n`, 'spec.rules[0].to[0].operation.ports[0]', 'invalid port "http"');
    expectError(`${AP}spec: {rules: [{when: [{key: source.ip}]}]}\n`, 'spec.rules[0].when[0]', 'at least one of values or notValues');
    expectError(`${AP}spec: {rules: [{from: [{source: {}}]}]}\n`, 'spec.rules[0].from[0].source', 'source must not be empty');
  });

  it('rejects provider on non-CUSTOM and CUSTOM without provider', () => {
    expectError(`${AP}spec: {action: ALLOW, provider: {name: x}}\n`, 'spec.provider', 'non-CUSTOM');
    expectError(`${AP}spec: {action: CUSTOM, rules: [{}]}\n`, 'spec.provider', 'provider.name must not be empty');
  });
});

const PA = 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: foo}\n';

describe('PeerAuthentication', () => {
  it('accepts the reference examples', () => {
    expectValid(`${PA}spec: {mtls: {mode: STRICT}}\n`);
    expectValid(`${PA}spec:\n  selector: {matchLabels: {app: finance}}\n  mtls: {mode: STRICT}\n  portLevelMtls:\n    8080: {mode: DISABLE}\n`);
  });

  it('rejects an unknown mode', () => {
    expectError(`${PA}spec: {mtls: {mode: STRICTER}}\n`, 'spec.mtls.mode', 'unknown mTLS mode "STRICTER": expected UNSET|DISABLE|PERMISSIVE|STRICT');
  });

  it('rejects portLevelMtls without a selector', () => {
    expectError(`${PA}spec: {portLevelMtls: {"8080": {mode: DISABLE}}}\n`, 'spec.portLevelMtls', 'requires a selector');
  });

  it('rejects an out-of-range port key', () => {
    expectError(`${PA}spec: {selector: {matchLabels: {a: b}}, portLevelMtls: {"70000": {mode: DISABLE}}}\n`, 'spec.portLevelMtls["70000"]', 'must be in range 1..65535');
  });
});

const RA = 'apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: jwt, namespace: foo}\n';

describe('RequestAuthentication', () => {
  it('accepts the reference example', () => {
    expectValid(`${RA}spec:
  selector: {matchLabels: {app: httpbin}}
  jwtRules:
  - issuer: "issuer-foo"
    jwksUri: https://example.com/.well-known/jwks.json
    fromHeaders: [{name: x-jwt-assertion, prefix: "Bearer "}]
    fromParams: [my_token]
    outputPayloadToHeader: x-jwt-payload
    forwardOriginalToken: true
    outputClaimToHeaders: [{header: x-sub, claim: sub}]
`);
  });

  it('rejects a rule without issuer or jwksUri and a bad claim header', () => {
    expectError(`${RA}spec: {jwtRules: [{audiences: [a]}]}\n`, 'spec.jwtRules[0]', 'issuer or jwksUri');
    expectError(`${RA}spec: {jwtRules: [{issuer: i, outputClaimToHeaders: [{header: "bad header", claim: sub}]}]}\n`, 'spec.jwtRules[0].outputClaimToHeaders[0].header', 'valid HTTP header name');
  });
});

const TEL = 'apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: t, namespace: istio-system}\n';

describe('Telemetry', () => {
  it('accepts basic tracing/metrics/accessLogging', () => {
    expectValid(`${TEL}spec:
  tracing: [{providers: [{name: zipkin}], randomSamplingPercentage: 10.5}]
  metrics:
  - providers: [{name: prometheus}]
    overrides: [{match: {metric: REQUEST_COUNT, mode: CLIENT}, tagOverrides: {request_protocol: {operation: REMOVE}}}]
  accessLogging: [{providers: [{name: envoy}]}]
`);
  });

  it('rejects an out-of-range sampling percentage', () => {
    expectError(`${TEL}spec: {tracing: [{randomSamplingPercentage: 101}]}\n`, 'spec.tracing[0].randomSamplingPercentage', 'out of range');
  });
});
