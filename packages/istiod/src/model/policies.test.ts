import { AuthorizationSchema, fromJson, security, toJson, type AuthorizationPolicy, type PeerAuthentication } from '@mesh/api';
import { describe, expect, it } from 'vitest';
import { convertAuthorizationPolicy } from './authorization';
import { convertPeerAuthentication, effectivePeerAuthenticationKeys } from './peer-authentication';

const ap = (namespace: string, spec: AuthorizationPolicy['spec']): AuthorizationPolicy =>
  ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace }, spec }) as AuthorizationPolicy;
const pa = (namespace: string, name: string, spec: PeerAuthentication['spec'], ts = '2024-01-01T00:00:00Z'): PeerAuthentication =>
  ({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace, creationTimestamp: ts }, spec }) as PeerAuthentication;
const json = (a: security.Authorization | undefined): unknown => (a ? toJson(AuthorizationSchema, a) : undefined);

describe('convertAuthorizationPolicy', () => {
  it('maps scopes: GLOBAL in the root namespace, NAMESPACE without selector, WORKLOAD_SELECTOR with one', () => {
    expect(convertAuthorizationPolicy(ap('istio-system', {}), 'istio-system').authorization?.scope).toBe(security.Scope.GLOBAL);
    expect(convertAuthorizationPolicy(ap('a', {}), 'istio-system').authorization?.scope).toBe(security.Scope.NAMESPACE);
    const sel = convertAuthorizationPolicy(ap('a', { selector: { matchLabels: { app: 'x' } } }), 'istio-system');
    expect(sel.authorization?.scope).toBe(security.Scope.WORKLOAD_SELECTOR);
    expect(sel.selector).toEqual({ app: 'x' });
  });

  it('does not send targetRef policies, and rejects AUDIT/CUSTOM with a status', () => {
    expect(convertAuthorizationPolicy(ap('a', { targetRefs: [{ kind: 'Gateway', name: 'wp' }] }), 'r')).toEqual({});
    const custom = convertAuthorizationPolicy(ap('a', { action: 'CUSTOM', provider: { name: 'x' } }), 'r');
    expect(custom.authorization).toBeUndefined();
    expect(custom.warning).toBe('ztunnel does not support the CUSTOM action');
  });

  it('maps sources, ports and when conditions to matches with exact/prefix/suffix/presence', () => {
    const out = convertAuthorizationPolicy(
      ap('a', {
        action: 'DENY',
        rules: [
          {
            from: [{ source: { principals: ['*'], notNamespaces: ['kube-*', '*-system', 'x'], ipBlocks: ['10.0.0.0/8'], serviceAccounts: ['sa1', 'b/sa2'] } }],
            to: [{ operation: { ports: ['80', 'bad', '70000'] } }],
            when: [{ key: 'destination.port', values: ['443'] }],
          },
        ],
      }),
      'istio-system',
    );
    expect(json(out.authorization)).toEqual({
      name: 'p',
      namespace: 'a',
      scope: 'NAMESPACE',
      action: 'DENY',
      groups: [
        {
          rules: [
            { matches: [{ destinationPorts: [80] }] },
            {
              matches: [
                {
                  principals: [{ presence: {} }],
                  notNamespaces: [{ prefix: 'kube-' }, { suffix: '-system' }, { exact: 'x' }],
                  sourceIps: [{ address: 'CgAAAA==', length: 8 }],
                  serviceAccounts: [{ namespace: 'a', serviceAccount: 'sa1' }, { namespace: 'b', serviceAccount: 'sa2' }],
                },
              ],
            },
            { matches: [{ destinationPorts: [443] }] },
          ],
        },
      ],
    });
    expect(out.warning).toBeUndefined();
  });

  it('drops an ALLOW rule that uses HTTP attributes (stricter) and warns', () => {
    const out = convertAuthorizationPolicy(ap('a', { rules: [{ to: [{ operation: { methods: ['GET'], ports: ['80'] } }] }, { from: [{ source: { namespaces: ['b'] } }] }] }), 'r');
    expect(out.authorization?.groups).toHaveLength(1);
    expect(out.warning).toContain('found: methods');
    expect(out.warning).toContain('Within an ALLOW policy');
  });

  it('keeps a DENY rule with HTTP attributes as an empty match ztunnel never matches', () => {
    const out = convertAuthorizationPolicy(ap('a', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin'] } }] }] }), 'r');
    expect(json(out.authorization)).toMatchObject({ groups: [{ rules: [{ matches: [{}] }] }] });
    expect(out.warning).toContain('will have no effect');
  });
});

describe('PeerAuthentication', () => {
  const root = 'istio-system';
  it('references the static STRICT policy for a mesh-wide STRICT, overridden by a namespace PERMISSIVE', () => {
    expect(effectivePeerAuthenticationKeys(root, [pa(root, 'd', { mtls: { mode: 'STRICT' } })])).toEqual(['istio-system/istio_converted_static_strict']);
    expect(effectivePeerAuthenticationKeys(root, [pa(root, 'd', { mtls: { mode: 'STRICT' } }), pa('a', 'n', { mtls: { mode: 'PERMISSIVE' } })])).toEqual([]);
    expect(effectivePeerAuthenticationKeys(root, [pa(root, 'd', { mtls: { mode: 'PERMISSIVE' } }), pa('a', 'w', { selector: { matchLabels: { app: 'x' } }, mtls: { mode: 'STRICT' } })])).toEqual([
      'istio-system/istio_converted_static_strict',
    ]);
  });

  it('converts port-level exceptions under an effective STRICT into a merged DENY policy', () => {
    const wl = pa('a', 'w', { selector: { matchLabels: { app: 'x' } }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } });
    const rootCfg = pa(root, 'd', { mtls: { mode: 'STRICT' } });
    expect(effectivePeerAuthenticationKeys(root, [rootCfg, wl])).toEqual(['a/converted_peer_authentication_w']);
    const expected = fromJson(AuthorizationSchema, {
      name: 'converted_peer_authentication_w',
      namespace: 'a',
      scope: 'WORKLOAD_SELECTOR',
      action: 'DENY',
      groups: [{ rules: [{ matches: [{ notDestinationPorts: [8080] }] }, { matches: [{ notPrincipals: [{ presence: {} }] }] }] }],
    });
    expect(json(convertPeerAuthentication(root, wl, undefined, rootCfg))).toEqual(toJson(AuthorizationSchema, expected));
  });

  it('turns STRICT ports under a PERMISSIVE workload into one DENY group per port', () => {
    const wl = pa('a', 'w', { selector: { matchLabels: { app: 'x' } }, mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { '9000': { mode: 'STRICT' }, '80': { mode: 'STRICT' } } });
    expect(json(convertPeerAuthentication(root, wl, undefined, undefined))).toMatchObject({
      groups: [
        { rules: [{ matches: [{ notPrincipals: [{ presence: {} }], destinationPorts: [80] }] }] },
        { rules: [{ matches: [{ notPrincipals: [{ presence: {} }], destinationPorts: [9000] }] }] },
      ],
    });
    expect(convertPeerAuthentication(root, pa(root, 'm', { selector: { matchLabels: { a: 'b' } }, portLevelMtls: { '1': { mode: 'STRICT' } } }), undefined, undefined)).toBeUndefined();
  });
});
