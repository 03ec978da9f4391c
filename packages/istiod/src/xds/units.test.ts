import { describe, expect, it } from 'vitest';
import { Metadata } from '@grpc/grpc-js';
import { create, DeltaDiscoveryResponseSchema, DiscoveryResponseSchema, envoyCore, fromBinary, unpackAuthorization } from '@mesh/api';
import { isMeshError } from '@mesh/core';
import { staticTokenAuthenticator } from './auth';
import { Debouncer } from './debouncer';
import { parseNode } from './node';
import { storedResource } from './resource';
import { packed, sleep } from './testing/harness';
import { encodeDeltaResponse, encodeSotwResponse } from './wire';

describe('wire encoding', () => {
  it('hand-assembled delta responses decode with protobuf-es', () => {
    const r1 = storedResource('x'.repeat(300), packed('x', 'v1'));
    const bytes = encodeDeltaResponse({ systemVersionInfo: 'sv', typeUrl: 't/u', nonce: 'n1', resources: [r1.encodedDelta], removed: ['gone', 'ünïcode'] });
    const msg = fromBinary(DeltaDiscoveryResponseSchema, bytes);
    expect(msg.systemVersionInfo).toBe('sv');
    expect(msg.typeUrl).toBe('t/u');
    expect(msg.nonce).toBe('n1');
    expect(msg.removedResources).toEqual(['gone', 'ünïcode']);
    expect(msg.resources[0]?.name).toBe('x'.repeat(300));
    expect(msg.resources[0]?.version).toBe(r1.version);
    expect(unpackAuthorization(msg.resources[0]!.resource!).namespace).toBe('v1');
  });

  it('hand-assembled SotW responses decode with protobuf-es', () => {
    const r = storedResource('a', packed('a', 'v1'));
    const msg = fromBinary(DiscoveryResponseSchema, encodeSotwResponse({ versionInfo: 'v', typeUrl: 't', nonce: 'n', resources: [r.encodedAny, r.encodedAny] }));
    expect(msg.resources.map((a) => unpackAuthorization(a).name)).toEqual(['a', 'a']);
  });

  it('versions are content hashes', () => {
    expect(storedResource('a', packed('a', 'v1')).version).toBe(storedResource('a', packed('a', 'v1')).version);
    expect(storedResource('a', packed('a', 'v1')).version).not.toBe(storedResource('a', packed('a', 'v2')).version);
  });
});

describe('parseNode', () => {
  it('reads the ztunnel id and metadata', () => {
    const n = parseNode(create(envoyCore.NodeSchema, {
      id: 'ztunnel~10.1.2.3~ztunnel-x.istio-system~istio-system.svc.cluster.local',
      metadata: { NODE_NAME: 'worker-1', CLUSTER_ID: 'c1' },
    }));
    expect(n).toMatchObject({ type: 'ztunnel', ip: '10.1.2.3', name: 'ztunnel-x', namespace: 'istio-system', nodeName: 'worker-1', clusterId: 'c1' });
  });

  it('rejects ids without four parts', () => {
    try {
      parseNode(create(envoyCore.NodeSchema, { id: 'ztunnel~1.2.3.4' }));
      expect.unreachable();
    } catch (err) {
      expect(isMeshError(err, 'XDS_BAD_NODE')).toBe(true);
    }
  });
});

describe('staticTokenAuthenticator', () => {
  const auth = staticTokenAuthenticator('abc');
  const req = (header?: string) => {
    const metadata = new Metadata();
    if (header !== undefined) metadata.set('authorization', header);
    return { metadata, peer: '127.0.0.1:1', peerCertificate: undefined };
  };
  it('accepts the token and refuses others with XDS_UNAUTHENTICATED', async () => {
    await expect(auth(req('Bearer abc'))).resolves.toMatchObject({ method: 'token' });
    await expect(auth(req('Bearer abcd'))).rejects.toMatchObject({ code: 'XDS_UNAUTHENTICATED' });
    await expect(auth(req())).rejects.toMatchObject({ code: 'XDS_UNAUTHENTICATED' });
  });
});

describe('Debouncer', () => {
  it('flushes once after the quiet period, and by maxMs even when changes keep coming', async () => {
    const flushes: string[][] = [];
    const d = new Debouncer((c) => flushes.push([...(c.get('t') ?? [])]), 30, 80);
    for (let i = 0; i < 10; i++) d.add('t', [`n${i % 3}`]);
    await sleep(60);
    expect(flushes).toEqual([['n0', 'n1', 'n2']]);
    const start = Date.now();
    while (Date.now() - start < 200) {
      d.add('t', ['x']);
      await sleep(10);
    }
    d.close();
    expect(flushes.length).toBeGreaterThanOrEqual(3);
  });
});
